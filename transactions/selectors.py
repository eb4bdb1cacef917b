"""Reads of the ledger: sums per payment and the rows a caller may see."""

from dataclasses import dataclass
from decimal import Decimal

from django.db import connections
from django.db.models import Case, F, Q, QuerySet, Sum, Value, When

from gamarriando.json_sql import RowJSON
from transactions.models import Transaction, TransactionStatus, TransactionType
from transactions.representation_sql import TRANSACTION_JSON_SQL

ZERO = Decimal("0")
SUCCEEDED = Q(status=TransactionStatus.SUCCEEDED)


def refundable_amount(
    captured: Decimal, refunded: Decimal, refund_pending: Decimal, charged_back: Decimal = ZERO
) -> Decimal:
    """Return what may still be refunded: captured, minus refunded, refunds in flight and
    what a lost dispute took back (the bank already returned that money to the cardholder)."""
    return max(captured - refunded - refund_pending - charged_back, ZERO)


@dataclass(frozen=True)
class LedgerTotals:
    authorized: Decimal
    captured: Decimal
    refunded: Decimal
    refund_pending: Decimal
    voided: bool
    charged_back: Decimal = ZERO  # lost disputes, net of the ones won back

    @property
    def refundable(self) -> Decimal:
        """What may still be refunded (never below zero)."""
        return refundable_amount(
            self.captured, self.refunded, self.refund_pending, self.charged_back
        )


def ledger_totals(payment_id: int) -> LedgerTotals:
    """Sum a payment's ledger: what was authorized, captured, refunded and is being refunded."""
    # One sum per (type, status), folded here: the same statement as seven filtered sums
    # (at most 21 rows back), but Django compiles it in a fifth of the time, and every
    # settle runs it (docs/benchmarks.md, round 5).
    rows = (
        Transaction.objects.filter(payment_id=payment_id)
        .order_by()
        .values_list("transaction_type", "status")
        .annotate(total=Sum("amount"))
    )
    sums = {(kind, status): total for kind, status, total in rows}

    def succeeded(*kinds: str) -> Decimal:
        return sum((sums.get((kind, TransactionStatus.SUCCEEDED), ZERO) for kind in kinds), ZERO)

    return LedgerTotals(
        authorized=succeeded(TransactionType.AUTHORIZATION, TransactionType.CHARGE),
        captured=succeeded(TransactionType.CHARGE, TransactionType.CAPTURE),
        refunded=max(
            succeeded(TransactionType.REFUND) - succeeded(TransactionType.REFUND_REVERSAL), ZERO
        ),
        refund_pending=sums.get((TransactionType.REFUND, TransactionStatus.PENDING), ZERO),
        voided=(TransactionType.VOID, TransactionStatus.SUCCEEDED) in sums,
        charged_back=max(
            succeeded(TransactionType.CHARGEBACK) - succeeded(TransactionType.CHARGEBACK_REVERSAL),
            ZERO,
        ),
    )


def pending_operation_exists(payment_id: int, *types: str) -> bool:
    """Tell whether an operation of these types is still in flight on the payment."""
    return Transaction.objects.filter(
        payment_id=payment_id, status=TransactionStatus.PENDING, transaction_type__in=types
    ).exists()


# The columns a ledger row shows (transactions.representations.transaction_data): the
# gateway's JSON answer and the reconciliation columns are not read for the API.
TRANSACTION_FIELDS = (
    "id",
    "payment_id",
    "transaction_type",
    "amount",
    "currency",
    "status",
    "gateway_transaction_id",
    "failure_reason",
    "reason",
    "created_by_id",
    "processed_at",
    "created_at",
)


def with_rendered(queryset: QuerySet[Transaction]) -> QuerySet[Transaction]:
    """On PostgreSQL, read each ledger row already rendered as the contract's JSON."""
    # Python then decodes the text instead of building a model, a Decimal and two datetimes
    # per row to turn them back into text (representation_sql). The columns read beside it
    # are the cursor's. Other databases render in Python (representations.transaction_data).
    if connections[queryset.db].vendor != "postgresql":
        return queryset
    return queryset.only("id", "created_at").annotate(rendered=RowJSON(TRANSACTION_JSON_SQL, ()))


def rendered_rows(queryset: QuerySet[Transaction]) -> QuerySet:
    """On PostgreSQL, a list page's rows as {created_at, rendered} dicts: no models at all."""
    # The cursor paginates on created_at, which it reads from a dict as from a model.
    rendered = with_rendered(queryset)
    if "rendered" not in rendered.query.annotations:  # not PostgreSQL: models, rendered later
        return rendered
    return rendered.values("created_at", "rendered")


def transaction_visible_to(user) -> QuerySet[Transaction]:
    """Return the ledger rows the user may see (all with staff's view permission, else their
    own), with the columns the API shows: read anything else and it costs a query per row."""
    queryset = Transaction.objects.only(*TRANSACTION_FIELDS)
    if not (user.is_staff and user.has_perm("transactions.view_transaction")):
        queryset = queryset.filter(payment__order__user=user)
    return queryset


# A refund to store credit (payments' refund_to_wallet) notes this destination on its row.
WALLET_DESTINATION = "wallet"


def money_gateway():
    """Where a ledger row's money moved: the payment's gateway, or the wallet for store credit."""
    return Case(
        When(
            transaction_type=TransactionType.REFUND,
            gateway_response__destination=WALLET_DESTINATION,
            then=Value(WALLET_DESTINATION),
        ),
        default=F("payment__payment_method"),
    )

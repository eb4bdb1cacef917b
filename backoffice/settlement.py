"""The settlement report: per day, currency and gateway, what moved and what the gateway keeps.

Gross, refunds and chargebacks come from our ledger. Fees and net come only from the gateway
(Stripe's balance transactions mirrored by dj-stripe); a group with any row the gateway has
not reported shows them blank, never a guess or a partial sum.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models.functions import Coalesce
from django.utils import timezone

from gamarriando.money import quantize
from payments.stripe.balance import stripe_fees_by_reference
from transactions.models import Transaction, TransactionStatus, TransactionType
from transactions.selectors import money_gateway

ZERO = Decimal("0")
GROSS = {TransactionType.CHARGE, TransactionType.CAPTURE}
MONEY_TYPES = [
    *GROSS,
    TransactionType.REFUND,
    TransactionType.REFUND_REVERSAL,
    *[TransactionType.CHARGEBACK],
]
# Gateways whose fees we can read; the others' fees are unknown to us.
FEE_READERS = {"stripe": stripe_fees_by_reference}
COLUMNS = ["day", "currency", "gateway", "gross", "refunds", "chargebacks", "fees", "net"]


@dataclass
class SettlementRow:
    day: date
    currency: str
    gateway: str
    gross: Decimal = ZERO
    refunds: Decimal = ZERO
    chargebacks: Decimal = ZERO
    fees: Decimal | None = ZERO
    net: Decimal | None = ZERO

    def cells(self) -> list:
        return [self.day.isoformat(), self.currency, self.gateway] + [
            "" if value is None else str(value)
            for value in (self.gross, self.refunds, self.chargebacks, self.fees, self.net)
        ]


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    return (
        datetime.combine(start, time.min, tzinfo=tz),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz),
    )


def settlement_rows(*, start: date, end: date) -> list[SettlementRow]:
    """Return one row per day, currency and gateway with money moved between the dates (inclusive)."""
    low, high = _bounds(start, end)
    types = [*MONEY_TYPES, TransactionType.CHARGEBACK_REVERSAL]
    ledger = (
        Transaction.objects.filter(status=TransactionStatus.SUCCEEDED, transaction_type__in=types)
        .annotate(
            moved_at=Coalesce("processed_at", "created_at"),
            gateway=money_gateway(),
        )
        .filter(moved_at__gte=low, moved_at__lt=high)
        .values_list(
            "moved_at",
            "currency",
            "gateway",
            "transaction_type",
            "amount",
            "gateway_transaction_id",
        )
        .order_by("moved_at")
    )
    moved = list(ledger)
    fees: dict[str, dict[str, tuple[Decimal, Decimal]]] = {}
    for gateway, reader in FEE_READERS.items():
        refs = [ref for _, _, gw, _, _, ref in moved if gw == gateway and ref]
        fees[gateway] = reader(refs) if refs else {}
    groups: dict[tuple, SettlementRow] = {}
    tz = timezone.get_current_timezone()
    for moved_at, currency, gateway, kind, amount, ref in moved:
        key = (timezone.localtime(moved_at, tz).date(), currency, gateway)
        row = groups.setdefault(key, SettlementRow(*key))
        if kind in GROSS:
            row.gross += amount
        elif kind == TransactionType.REFUND:
            row.refunds += amount
        elif kind == TransactionType.REFUND_REVERSAL:  # a refund that failed after succeeding
            row.refunds -= amount
        elif kind == TransactionType.CHARGEBACK:
            row.chargebacks += amount
        else:
            row.chargebacks -= amount
        known = fees.get(gateway, {}).get(ref)
        if known is None or row.fees is None:
            row.fees = row.net = None
        else:
            row.fees += known[0]
            row.net += known[1]
    rows = [groups[key] for key in sorted(groups)]
    for row in rows:  # the currency's own decimals: a JPY total is 4800, not 4800.00
        for name in ("gross", "refunds", "chargebacks", "fees", "net"):
            value = getattr(row, name)
            if value is not None:
                setattr(row, name, quantize(value, row.currency))
    return rows

"""Reads of wallets: what a customer sees, and the audit that sums entries against figures."""

from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db.models import Case, DecimalField, F, QuerySet, Sum, Value, When

from gamarriando.money import quantize
from wallets.models import ENTRY_EFFECTS, EntryType, Wallet, WalletEntry, WalletHold


def active_account_by_email(email: str):
    """Return the active account with this e-mail (any case), or None."""
    return get_user_model().objects.filter(email__iexact=email.strip(), is_active=True).first()


def wallets_of(user) -> QuerySet[Wallet]:
    """Return the user's wallets, one per currency, in currency order."""
    return Wallet.objects.filter(user=user).order_by("currency")


def entries_of(user) -> QuerySet[WalletEntry]:
    """Return the entries of the user's wallets."""
    return WalletEntry.objects.filter(wallet__user=user).select_related("wallet")


def hold_for_key(idempotency_key: str) -> WalletHold | None:
    """Return the hold placed by a payment attempt's key, if any."""
    return WalletHold.objects.filter(idempotency_key=idempotency_key).first()


def _signed(index: int):
    """Sum of entry amounts times each type's effect on balance (0) or held (1)."""
    whens = []
    for entry_type, effect in ENTRY_EFFECTS.items():
        sign = effect[index]
        if entry_type == EntryType.DEBIT and index == 1:
            # A debit settles a hold only when it has one (an adjustment has none).
            whens.append(When(entry_type=entry_type, hold__isnull=False, then=-F("amount")))
            continue
        if sign:
            whens.append(When(entry_type=entry_type, then=sign * F("amount")))
    return Sum(
        Case(
            *whens,
            default=Value(Decimal(0)),
            output_field=DecimalField(max_digits=14, decimal_places=2),
        )
    )


@dataclass(frozen=True)
class Drift:
    """One wallet whose figures disagree with its entries."""

    wallet_id: int
    balance: Decimal
    held: Decimal
    entries_balance: Decimal
    entries_held: Decimal
    version: int
    entries: int


def wallet_drift() -> list[Drift]:
    """Return every wallet whose balance, held or version disagrees with its entries."""
    sums = {
        row["wallet_id"]: row
        for row in WalletEntry.objects.values("wallet_id")
        .annotate(balance=_signed(0), held=_signed(1), count=Sum(Value(1)))
        .order_by()
    }
    drift = []
    for wallet in Wallet.objects.order_by("pk"):
        row = sums.get(wallet.pk, {"balance": Decimal(0), "held": Decimal(0), "count": 0})
        # In the currency's minor unit, where every entry is: SQLite sums the CASE in floating
        # point ("-1.77E-15" for a held of 0.00); PostgreSQL's numeric sums are exact anyway.
        balance, held = (
            quantize(Decimal(str(row[name] or 0)), wallet.currency) for name in ("balance", "held")
        )
        if (balance, held, row["count"]) != (wallet.balance, wallet.held, wallet.version):
            drift.append(
                Drift(
                    wallet.pk,
                    wallet.balance,
                    wallet.held,
                    balance,
                    held,
                    wallet.version,
                    row["count"],
                )
            )
    return drift

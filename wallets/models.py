"""Store credit: one wallet per customer and currency, its holds, and its append-only entries.

Payments and orders are referred to by id only (`payment_id`, `order_id`): the wallet sits
below payments in the import layers and knows nothing of them.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from gamarriando.money import format_amount, with_currency

MONEY = {"max_digits": 12, "decimal_places": 2}
MAX_BALANCE = Decimal("9999999999.99")  # the most numeric(12, 2) holds


class Wallet(models.Model):
    """A customer's store credit in one currency; changed only by compare-and-swap on `version`."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="wallets"
    )
    currency = models.CharField(max_length=3)
    balance = models.DecimalField(default=0, **MONEY)
    held = models.DecimalField(default=0, **MONEY)
    version = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        permissions = [("adjust_wallet", "Can grant or remove store credit")]
        constraints = [
            models.UniqueConstraint(fields=["user", "currency"], name="wallet_one_per_currency"),
            models.CheckConstraint(condition=Q(balance__gte=0), name="wallet_balance_non_negative"),
            models.CheckConstraint(
                condition=Q(held__gte=0) & Q(held__lte=F("balance")),
                name="wallet_held_within_balance",
            ),
        ]

    def __str__(self):
        balance = with_currency(self.balance, self.currency)
        return f"Wallet {self.pk} {balance} (held {format_amount(self.held, self.currency)})"

    @property
    def available(self):
        return self.balance - self.held


class HoldStatus(models.TextChoices):
    HELD = "held"
    DEDUCTED = "deducted"
    RELEASED = "released"
    EXPIRED = "expired"


class WalletHold(models.Model):
    """Funds reserved for one payment attempt; settled once: deducted, released or expired."""

    wallet = models.ForeignKey(Wallet, on_delete=models.PROTECT, related_name="holds")
    # The gateway idempotency key of the attempt that placed it: one hold per attempt.
    idempotency_key = models.CharField(max_length=255, unique=True)
    payment_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    order_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    amount = models.DecimalField(**MONEY)
    deducted_amount = models.DecimalField(default=0, **MONEY)
    status = models.CharField(
        max_length=16, choices=HoldStatus.choices, default=HoldStatus.HELD, db_index=True
    )
    expires_at = models.DateTimeField(db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="wallet_hold_amount_positive"),
            models.CheckConstraint(
                condition=Q(deducted_amount__gte=0) & Q(deducted_amount__lte=F("amount")),
                name="wallet_hold_deducted_within_amount",
            ),
            models.CheckConstraint(
                condition=Q(status__in=HoldStatus.values), name="wallet_hold_status_known"
            ),
        ]

    def __str__(self):
        return f"Hold {self.pk} {format_amount(self.amount, self.wallet.currency)} ({self.status})"


class EntryType(models.TextChoices):
    CREDIT = "credit"
    DEBIT = "debit"
    HOLD = "hold"
    RELEASE = "release"
    EXPIRE = "expire"


# How each entry type moves (balance, held), as signs of its amount: the audit sums these.
ENTRY_EFFECTS = {
    EntryType.CREDIT: (1, 0),
    EntryType.DEBIT: (-1, -1),  # a debit always settles (part of) a hold
    EntryType.HOLD: (0, 1),
    EntryType.RELEASE: (0, -1),
    EntryType.EXPIRE: (0, -1),
}


class WalletEntryImmutable(Exception):
    """Raised when code tries to change or delete a wallet entry."""


class WalletEntry(models.Model):
    """One movement of a wallet, with the figures after it. Never changed, never deleted."""

    wallet = models.ForeignKey(Wallet, on_delete=models.PROTECT, related_name="entries")
    entry_type = models.CharField(max_length=16, choices=EntryType.choices)
    amount = models.DecimalField(**MONEY)
    balance_after = models.DecimalField(**MONEY)
    held_after = models.DecimalField(**MONEY)
    # The wallet version this entry produced: exactly one entry per version.
    version = models.PositiveBigIntegerField()
    reason = models.CharField(max_length=255, blank=True)
    hold = models.ForeignKey(
        WalletHold, null=True, blank=True, on_delete=models.PROTECT, related_name="entries"
    )
    payment_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    order_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    # Set on credits made by a gateway operation (a refund to the wallet): one credit per key.
    idempotency_key = models.CharField(max_length=255, null=True, blank=True, unique=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name_plural = "wallet entries"
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="wallet_entry_amount_positive"),
            models.CheckConstraint(
                condition=Q(entry_type__in=EntryType.values), name="wallet_entry_type_known"
            ),
            models.UniqueConstraint(
                fields=["wallet", "version"], name="wallet_entry_one_per_version"
            ),
        ]
        indexes = [
            models.Index(fields=["wallet", "created_at"], name="wallet_entry_wallet_created"),
        ]

    def __str__(self):
        amount, balance = (
            format_amount(value, self.wallet.currency)
            for value in (self.amount, self.balance_after)
        )
        return f"{self.entry_type} {amount} (balance {balance})"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise WalletEntryImmutable("Wallet entries are never changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise WalletEntryImmutable("Wallet entries are never deleted.")

"""The append-only ledger: one row per money movement on a payment."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from gamarriando.money import with_currency

MONEY = {"max_digits": 12, "decimal_places": 2}


class TransactionType(models.TextChoices):
    AUTHORIZATION = "authorization"
    CAPTURE = "capture"
    CHARGE = "charge"
    REFUND = "refund"
    VOID = "void"
    # A lost dispute takes the money back; winning it later gives it back (payments/services/disputes.py).
    CHARGEBACK = "chargeback"
    CHARGEBACK_REVERSAL = "chargeback_reversal"
    # A refund the gateway reported succeeded and later failed (the card was closed): the
    # money came back to us, and the customer still waits for it (payments/services/refund_failure.py).
    REFUND_REVERSAL = "refund_reversal"


# Rows only a gateway's word writes: POST /transactions refuses them.
GATEWAY_ONLY_TYPES = frozenset(
    {
        TransactionType.CHARGEBACK,
        TransactionType.CHARGEBACK_REVERSAL,
        TransactionType.REFUND_REVERSAL,
    }
)
# The rows an attempt to take money opens (process, or an offline record of one).
ATTEMPT_TYPES = (TransactionType.CHARGE, TransactionType.AUTHORIZATION)


class TransactionStatus(models.TextChoices):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class LedgerRowImmutable(Exception):
    """Raised when code tries to change or delete a settled ledger row."""


class Transaction(models.Model):
    """A money movement. Rows are never deleted; a pending row settles once, then never changes."""

    payment = models.ForeignKey(
        "payments.Payment", on_delete=models.PROTECT, related_name="transactions"
    )
    transaction_type = models.CharField(max_length=24, choices=TransactionType.choices)
    amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3)
    status = models.CharField(
        max_length=16, choices=TransactionStatus.choices, default=TransactionStatus.PENDING
    )
    gateway_transaction_id = models.CharField(max_length=255, blank=True, default="")
    gateway_response = models.JSONField(default=dict, blank=True)
    failure_reason = models.CharField(max_length=255, blank=True)
    reason = models.CharField(max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The gateway idempotency key of the operation this row records (none for offline rows).
    idempotency_key = models.CharField(max_length=255, null=True, blank=True)
    gateway_latency_ms = models.PositiveIntegerField(null=True, blank=True)
    # Janitor schedule for rows left pending: asked again at 1 min, 5 min, 1 h, then daily.
    reconcile_attempts = models.PositiveIntegerField(default=0)
    next_reconcile_at = models.DateTimeField(null=True, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="transaction_amount_positive"),
            models.CheckConstraint(
                condition=Q(transaction_type__in=TransactionType.values),
                name="transaction_type_known",
            ),
            models.CheckConstraint(
                condition=Q(status__in=TransactionStatus.values), name="transaction_status_known"
            ),
            # The same gateway result can never be recorded twice.
            models.UniqueConstraint(
                fields=["transaction_type", "gateway_transaction_id"],
                condition=~Q(gateway_transaction_id=""),
                name="transaction_gateway_reference_unique",
            ),
            models.UniqueConstraint(
                fields=["idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="transaction_idempotency_key_unique",
            ),
        ]
        indexes = [
            models.Index(
                fields=["payment", "status", "transaction_type"], name="txn_payment_status_type"
            ),
            models.Index(
                fields=["status", "created_at"],
                condition=Q(status="pending"),
                name="txn_pending_created",
            ),
        ]

    def __str__(self):
        return (
            f"{self.transaction_type} {with_currency(self.amount, self.currency)} ({self.status})"
        )

    def delete(self, *args, **kwargs):
        raise LedgerRowImmutable("Ledger rows are never deleted.")

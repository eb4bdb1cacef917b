"""Payments, their status history, and the simulated gateway's own records."""

from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from gamarriando.history import StatusHistory
from gamarriando.money import with_currency

MONEY = {"max_digits": 12, "decimal_places": 2}


class PaymentStatus(models.TextChoices):
    PENDING = "pending"
    PROCESSING = "processing"
    REQUIRES_ACTION = "requires_action"
    AUTHORIZED = "authorized"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"


class Payment(models.Model):
    """One payment towards an order; its money columns are recomputed from the ledger."""

    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="payments")
    payment_method = models.CharField(max_length=32)
    amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3)
    status = models.CharField(
        max_length=24, choices=PaymentStatus.choices, default=PaymentStatus.PENDING, db_index=True
    )
    authorized_amount = models.DecimalField(default=0, **MONEY)
    captured_amount = models.DecimalField(default=0, **MONEY)
    refunded_amount = models.DecimalField(default=0, **MONEY)
    attempts = models.PositiveIntegerField(default=0)
    # The storefront's gateway token for the current attempt (tok_..., pm_...); never card data.
    payment_method_token = models.CharField(max_length=255, blank=True)
    capture_on_process = models.BooleanField(default=True)
    return_url = models.URLField(max_length=2000, blank=True)
    gateway_transaction_id = models.CharField(max_length=255, blank=True, db_index=True)
    gateway_response = models.JSONField(default=dict, blank=True)
    failure_code = models.CharField(max_length=64, blank=True)
    failure_message = models.CharField(max_length=255, blank=True)
    next_action = models.JSONField(null=True, blank=True)
    disputed = models.BooleanField(default=False)
    # The dj-stripe mirror of this payment's PaymentIntent, for payments made through Stripe.
    stripe_payment_intent = models.ForeignKey(
        "djstripe.PaymentIntent", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The storefront's own keys and values (<= 20), also sent to the gateway under our own keys.
    metadata = models.JSONField(default=dict, blank=True)
    # The customer's saved method (dj-stripe's mirror) that paid, and its wallet if any.
    saved_payment_method = models.ForeignKey(
        "djstripe.PaymentMethod", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    save_payment_method = models.BooleanField(default=False)
    wallet = models.CharField(max_length=32, blank=True)  # apple_pay, google_pay, ...
    processed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        permissions = [
            ("refund_payment", "Can refund payments"),
            ("capture_payment", "Can capture and void payments"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(
                condition=Q(captured_amount__gte=0)
                & Q(refunded_amount__gte=0)
                & Q(authorized_amount__gte=0),
                name="payment_amounts_non_negative",
            ),
            models.CheckConstraint(
                condition=Q(refunded_amount__lte=F("captured_amount")),
                name="payment_refunded_within_captured",
            ),
            models.CheckConstraint(
                condition=Q(captured_amount__lte=F("authorized_amount")),
                name="payment_captured_within_authorized",
            ),
            models.CheckConstraint(
                condition=Q(authorized_amount__lte=F("amount")),
                name="payment_authorized_within_amount",
            ),
            models.CheckConstraint(
                condition=Q(status__in=PaymentStatus.values), name="payment_status_known"
            ),
        ]
        indexes = [
            models.Index(fields=["order", "status"], name="payment_order_status"),
        ]

    def __str__(self):
        return f"Payment {self.pk} {with_currency(self.amount, self.currency)} ({self.status})"

    def attempt_key(self) -> str:
        """Return the gateway idempotency key of the current processing attempt."""
        return f"payment-{self.pk}-attempt-{self.attempts}"


class PaymentStatusHistory(StatusHistory):
    """One row per payment status change."""

    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="status_history")

    class Meta:
        verbose_name_plural = "payment status history"


class SimulatedGatewayOperation(models.Model):
    """What the simulated gateway has done, keyed like Stripe by idempotency key."""

    idempotency_key = models.CharField(max_length=255, unique=True)
    kind = models.CharField(max_length=16)
    token = models.CharField(max_length=255, blank=True)
    amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=24)
    reference = models.CharField(max_length=64, unique=True)
    charge_reference = models.CharField(max_length=64, blank=True, db_index=True)
    failure_code = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"{self.kind} {self.reference} {self.status}"


class StripeEventStatus(models.TextChoices):
    RECEIVED = "received"
    PROCESSED = "processed"
    FAILED = "failed"


class StripeWebhookEvent(models.Model):
    """A verified Stripe event, stored raw before anything acts on it; applied by a worker."""

    id = models.CharField(max_length=255, primary_key=True)  # Stripe's evt_ id: one row per event
    type = models.CharField(max_length=100, db_index=True)
    livemode = models.BooleanField(default=False)
    stripe_created = models.DateTimeField()
    payload = models.JSONField()
    status = models.CharField(
        max_length=16,
        choices=StripeEventStatus.choices,
        default=StripeEventStatus.RECEIVED,
        db_index=True,
    )
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.type} {self.id}"


class DisputeStatus(models.TextChoices):
    """Stripe's dispute statuses; PayPal's reversals map onto them."""

    WARNING_NEEDS_RESPONSE = "warning_needs_response"
    WARNING_UNDER_REVIEW = "warning_under_review"
    WARNING_CLOSED = "warning_closed"
    NEEDS_RESPONSE = "needs_response"
    UNDER_REVIEW = "under_review"
    WON = "won"
    LOST = "lost"


class Dispute(models.Model):
    """A chargeback on a payment, as the gateway reports it; its money moves are ledger rows."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="disputes")
    gateway = models.CharField(max_length=32)
    gateway_dispute_id = models.CharField(max_length=255, unique=True)
    amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3)
    reason = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=32, choices=DisputeStatus.choices, db_index=True)
    evidence_due_by = models.DateTimeField(null=True, blank=True, db_index=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # When Finance was told: once on opening, once three days before the deadline.
    opened_notified_at = models.DateTimeField(null=True, blank=True)
    deadline_notified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="dispute_amount_positive"),
            models.CheckConstraint(
                condition=Q(status__in=DisputeStatus.values), name="dispute_status_known"
            ),
        ]

    def __str__(self):
        amount = with_currency(self.amount, self.currency)
        return f"Dispute {self.gateway_dispute_id} {amount} ({self.status})"

    @property
    def outcome(self) -> str:
        """won, lost, or empty while the dispute is open."""
        return self.status if self.status in (DisputeStatus.WON, DisputeStatus.LOST) else ""


class PayPalWebhookEvent(models.Model):
    """A verified PayPal event, stored raw before anything acts on it; applied by a worker."""

    id = models.CharField(max_length=255, primary_key=True)  # PayPal's WH- id: one row per event
    type = models.CharField(max_length=100, db_index=True)
    resource_id = models.CharField(max_length=255, blank=True, db_index=True)
    paypal_created = models.DateTimeField(null=True, blank=True)
    transmission_id = models.CharField(max_length=255, blank=True)
    payload = models.JSONField()
    status = models.CharField(
        max_length=16,
        choices=StripeEventStatus.choices,
        default=StripeEventStatus.RECEIVED,
        db_index=True,
    )
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "PayPal webhook event"

    def __str__(self):
        return f"{self.type} {self.id}"

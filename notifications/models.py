"""Webhook subscriptions, their deliveries and every delivery attempt."""

import secrets
from datetime import datetime

from django.db import models
from django.utils import timezone


def _new_secret() -> str:  # the field's default, by this name in migration 0001
    return f"whsec_{secrets.token_urlsafe(24)}"


def new_signing_secret() -> str:
    """Return a fresh signing secret."""
    return _new_secret()


def mask_secret(secret: str) -> str:
    """Show a secret's kind and last four characters only."""
    return f"whsec_\u2022\u2022\u2022\u2022{secret[-4:]}" if secret else ""


class WebhookSubscription(models.Model):
    """A subscriber's endpoint, the event types it wants (empty: all) and its signing secret."""

    url = models.URLField(max_length=2000)
    event_types = models.JSONField(
        default=list, blank=True, help_text='e.g. ["payment.succeeded"]; empty for every event'
    )
    # Shown once (at creation or rotation), masked everywhere afterwards.
    secret = models.CharField(max_length=100, default=_new_secret)
    # The secret before the last rotation: deliveries are signed with both until it expires.
    previous_secret = models.CharField(max_length=100, blank=True, default="")
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    # The first failed attempt since the last success: a short outage never disables an endpoint.
    failing_since = models.DateTimeField(null=True, blank=True)
    # Set when failures disabled it: its events are kept for it until it is switched back on.
    disabled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return self.url

    def wants(self, event_type: str) -> bool:
        """Tell whether this subscriber asked for the event type (an empty list: every type)."""
        if not isinstance(self.event_types, list):
            # A malformed row (the admin form refuses one) wants nothing rather than crash.
            return False
        return not self.event_types or event_type in self.event_types

    def signing_secrets(self, at: datetime) -> list[str]:
        """Return the secrets a delivery at this moment is signed with, the current one first."""
        if (
            self.previous_secret
            and self.previous_secret_expires_at
            and at < self.previous_secret_expires_at
        ):
            return [self.secret, self.previous_secret]
        return [self.secret]


class DeliveryStatus(models.TextChoices):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    GAVE_UP = "gave_up"


class WebhookDelivery(models.Model):
    """One event for one subscriber, retried with backoff for up to 24 hours."""

    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.ForeignKey("gamarriando.OutboxEvent", on_delete=models.CASCADE, related_name="+")
    order_id = models.BigIntegerField(null=True, db_index=True)
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING, db_index=True
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now, db_index=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    # Set while one attempt's POST is in flight, so a second task for it (the retry sweep, the
    # next event's hand-over, a redeliver) does not POST it again; it lapses if that worker dies.
    claimed_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "webhook deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "event"], name="one_delivery_per_event_and_subscriber"
            )
        ]

    def __str__(self):
        return f"{self.event_id} -> {self.subscription_id} ({self.status})"


class WebhookAttempt(models.Model):
    """One HTTP try: status and latency; never the answer's body (it is not ours to keep)."""

    delivery = models.ForeignKey(
        WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log"
    )
    attempted_at = models.DateTimeField(default=timezone.now)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=500, blank=True)

    def __str__(self):
        return f"{self.status_code or self.error}"

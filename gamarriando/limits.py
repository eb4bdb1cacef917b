"""Business limits: the 429 LIMIT_EXCEEDED each one answers (docs/API.md), by name.

The checks live beside the writes they guard (orders/services.py, payments/limits.py); the
values are settings (README, "Abuse limits").
"""

from datetime import datetime

from django.utils import timezone

from gamarriando.errors import LimitExceeded

MESSAGES = {
    "line_quantity": "Too many units of one product in one order.",
    "pending_orders": "Too many unpaid orders; pay or cancel one first.",
    "process_attempts": "This payment was tried too many times; start a new payment.",
    "failed_attempts": "Too many failed payment attempts; try again later.",
}


def limit_exceeded(name: str, *, resets_at: datetime | None = None, **details) -> LimitExceeded:
    """Build the error for a reached limit; Retry-After says when it resets, if it ever does."""
    retry_after = None
    if resets_at is not None:
        retry_after = max(1.0, (resets_at - timezone.now()).total_seconds())
    return LimitExceeded(
        MESSAGES.get(name), details={"limit": name, **details}, retry_after=retry_after
    )

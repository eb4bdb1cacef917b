"""The "unusual activity" alert: the last hour against the same hour on each of the last 7 days.

Rule (README, "Alerts"): refunds, or failed payment attempts, in the last hour fire the alert
when they are at least ALERT_UNUSUAL_MIN_COUNT and more than ALERT_UNUSUAL_FACTOR times the
average of the same hour over the trailing week. The floor keeps a quiet shop (0 → 2) silent.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Q

from transactions.models import Transaction, TransactionStatus, TransactionType

HOUR = timedelta(hours=1)
WEEK = 7
WATCHED = {
    "refunds": Q(transaction_type=TransactionType.REFUND),
    "failed payment attempts": Q(
        transaction_type__in=[TransactionType.CHARGE, TransactionType.AUTHORIZATION],
        status=TransactionStatus.FAILED,
    ),
}


def hourly_counts(what: Q, now: datetime) -> tuple[int, float]:
    """Count rows in the last hour and the average of the same hour on the 7 days before."""
    windows = {
        f"d{day}": Q(created_at__gte=now - timedelta(days=day) - HOUR)
        & Q(created_at__lt=now - timedelta(days=day))
        for day in range(WEEK + 1)
    }
    counts = Transaction.objects.filter(what, created_at__gte=now - timedelta(days=WEEK) - HOUR)
    found = counts.aggregate(
        **{name: Count("pk", filter=window) for name, window in windows.items()}
    )
    baseline = sum(found[f"d{day}"] for day in range(1, WEEK + 1)) / WEEK
    return found["d0"], baseline


def unusual_activity_alerts(now: datetime) -> list[str]:
    """Return one line per watched figure far above its trailing week's same hour."""
    alerts = []
    for name, what in WATCHED.items():
        current, baseline = hourly_counts(what, now)
        factor = settings.ALERT_UNUSUAL_FACTOR
        if current >= settings.ALERT_UNUSUAL_MIN_COUNT and current > factor * baseline:
            alerts.append(
                f"unusual activity: {current} {name} in the last hour, against "
                f"{baseline:.1f} on average at this hour over the last week (> {factor}x)"
            )
    return alerts

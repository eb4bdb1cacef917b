"""The Prometheus alert rules (ops/prometheus/alerts.yml) as database checks that e-mail admins."""

from datetime import timedelta

from django.conf import settings
from django.core.mail import mail_admins
from django.db.models import Count, Min, Q
from django.utils import timezone

from gamarriando.events import OutboxEvent
from payments.models import Payment, PaymentStatus

FINAL = [
    PaymentStatus.COMPLETED,
    PaymentStatus.AUTHORIZED,
    PaymentStatus.FAILED,
    PaymentStatus.PARTIALLY_REFUNDED,
    PaymentStatus.REFUNDED,
]


def alert_checks(*, now=None) -> list[str]:
    """Return one line per alert that fires now."""
    now = now or timezone.now()
    window = now - timedelta(minutes=15)
    alerts = []
    recent = Payment.objects.filter(processed_at__gte=window, status__in=FINAL).aggregate(
        total=Count("pk"),
        failed=Count("pk", filter=Q(status=PaymentStatus.FAILED)),
        gateway_errors=Count("pk", filter=Q(failure_code="gateway_error")),
    )
    if recent["total"] and recent["failed"] / recent["total"] > settings.ALERT_FAILURE_RATE:
        alerts.append(
            f"payment failure rate {recent['failed']}/{recent['total']} over 15 minutes is above {settings.ALERT_FAILURE_RATE:.0%}"
        )
    if recent["gateway_errors"]:
        alerts.append(
            f"{recent['gateway_errors']} payment(s) failed with gateway_error in 15 minutes"
        )
    stuck = Payment.objects.filter(
        status=PaymentStatus.PROCESSING,
        updated_at__lt=now - timedelta(seconds=settings.ALERT_STUCK_PROCESSING_SECONDS),
    ).count()
    if stuck:
        alerts.append(
            f"{stuck} payment(s) stuck in processing for more than {settings.ALERT_STUCK_PROCESSING_SECONDS} s"
        )
    kept = Payment.objects.filter(
        order__status="cancelled",
        status__in=[PaymentStatus.COMPLETED, PaymentStatus.PARTIALLY_REFUNDED],
    ).exclude(transactions__transaction_type="refund", transactions__status="pending")
    kept_ids = list(kept.order_by("pk").values_list("pk", flat=True)[:20])
    if kept_ids:
        alerts.append(
            f"payment(s) {', '.join(map(str, kept_ids))} of cancelled orders still hold money "
            "the gateway refused to refund: refund them by hand"
        )
    oldest = OutboxEvent.objects.filter(dispatched_at__isnull=True).aggregate(
        oldest=Min("created_at")
    )["oldest"]
    if oldest and (now - oldest).total_seconds() > settings.ALERT_OUTBOX_LAG_SECONDS:
        alerts.append(
            f"outbox lag {(now - oldest).total_seconds():.0f} s is above {settings.ALERT_OUTBOX_LAG_SECONDS} s"
        )
    return alerts


def alert_check_and_notify() -> list[str]:
    """Run the checks and e-mail the admins when any fires."""
    alerts = alert_checks()
    if alerts:
        mail_admins("Gamarriando Payments alerts", "\n".join(alerts))
    return alerts

"""Payment metrics read from the database and the payment alert checks (ops/prometheus/alerts.yml)."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Min, Q
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily

from gamarriando.alerts import register_alert_check
from gamarriando.metrics import register_scrape_collector
from orders.models import OrderStatus
from payments import rules
from payments.dispute_transitions import OPEN
from payments.gateways.base import FailureCode
from payments.models import Payment, PaymentStatus
from payments.transitions import FINAL
from payments.unusual_activity import unusual_activity_alerts
from transactions.models import TransactionStatus, TransactionType


class PaymentCollector:
    """Payments by status and gateway, read at scrape time so every process reports the same."""

    def describe(self):
        return []  # keeps registration from querying the database at import time

    def collect(self):
        payments = GaugeMetricFamily(
            "gamarriando_payments", "Payments by status and gateway", labels=["status", "gateway"]
        )
        rows = Payment.objects.values("status", "payment_method").annotate(count=Count("pk"))
        for row in rows.order_by():
            payments.add_metric([row["status"], row["payment_method"]], row["count"])
        yield payments
        # The stuck-payment alert reads this age, not the count: steady traffic always has
        # some payment processing for a second, but none for 30 s.
        oldest = Payment.objects.filter(status=PaymentStatus.PROCESSING).aggregate(
            oldest=Min("updated_at")
        )["oldest"]
        age = GaugeMetricFamily(
            "gamarriando_payment_oldest_processing_seconds",
            "Age of the oldest payment in processing (0 when none)",
        )
        age.add_metric([], (timezone.now() - oldest).total_seconds() if oldest else 0.0)
        yield age


_collector = PaymentCollector()


def register_payment_monitoring() -> None:
    """Register the collector and the alert check once per process (from AppConfig.ready)."""
    register_scrape_collector(_collector)
    register_alert_check(payment_alerts)
    register_alert_check(unusual_activity_alerts)


def payment_alerts(now: datetime) -> list[str]:
    """Return one line per payment alert firing: failures, gateway errors, stuck, kept money."""
    alerts = []
    window = now - timedelta(minutes=15)
    recent = Payment.objects.filter(processed_at__gte=window, status__in=FINAL).aggregate(
        total=Count("pk"),
        failed=Count("pk", filter=Q(status=PaymentStatus.FAILED)),
        gateway_errors=Count("pk", filter=Q(failure_code=FailureCode.GATEWAY_ERROR)),
    )
    if recent["total"] and recent["failed"] / recent["total"] > settings.ALERT_FAILURE_RATE:
        alerts.append(
            f"payment failure rate {recent['failed']}/{recent['total']} over 15 minutes "
            f"is above {settings.ALERT_FAILURE_RATE:.0%}"
        )
    if recent["gateway_errors"]:
        alerts.append(
            f"{recent['gateway_errors']} payment(s) failed with gateway_error in 15 minutes"
        )
    stuck_seconds = settings.ALERT_STUCK_PROCESSING_SECONDS
    stuck = Payment.objects.filter(
        status=PaymentStatus.PROCESSING, updated_at__lt=now - timedelta(seconds=stuck_seconds)
    ).count()
    if stuck:
        alerts.append(f"{stuck} payment(s) stuck in processing for more than {stuck_seconds} s")
    kept = (
        Payment.objects.filter(
            order__status=OrderStatus.CANCELLED,
            status__in=[PaymentStatus.COMPLETED, PaymentStatus.PARTIALLY_REFUNDED],
        )
        .exclude(
            transactions__transaction_type=TransactionType.REFUND,
            transactions__status=TransactionStatus.PENDING,
        )
        # An open dispute holds the refund on purpose; its close gives the money back.
        .exclude(disputes__status__in=OPEN)
        .distinct()
    )
    # Only what the ledger still lets us refund: a lost dispute already returned the rest.
    kept_ids = [p.pk for p in kept.order_by("pk")[:200] if rules.refundable(p) > 0][:20]
    if kept_ids:
        alerts.append(
            f"payment(s) {', '.join(map(str, kept_ids))} of cancelled orders still hold money "
            "that was not refunded (the gateway refused, or a dispute inquiry closed): "
            "refund them by hand"
        )
    return alerts

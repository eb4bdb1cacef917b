"""Figures for the finance dashboard, each one database aggregation over a period."""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from payments.models import Payment, PaymentStatus
from payments.transitions import FINAL
from transactions.models import Transaction, TransactionStatus, TransactionType

PERIODS = {"7": 7, "30": 30, "90": 90}
SUCCEEDED = [
    PaymentStatus.COMPLETED,
    PaymentStatus.PARTIALLY_REFUNDED,
    PaymentStatus.REFUNDED,
    PaymentStatus.AUTHORIZED,
]
ZERO = Decimal("0")


@dataclass(frozen=True)
class Dashboard:
    days: int
    per_day: list[dict]  # {"day", "count", "amount"}
    success_rate: float | None
    refund_rate: float | None
    avg_seconds_to_final: float | None
    failures_by_code: list[dict]  # {"failure_code", "count"}
    latency_by_gateway: list[dict]  # {"payment_method", "avg_ms", "calls"}
    totals: dict


def dashboard_figures(*, days: int, today: date | None = None) -> Dashboard:
    """Aggregate payments and ledger rows created in the last `days` days."""
    since = timezone.now() - timedelta(days=days)
    payments = Payment.objects.filter(created_at__gte=since)
    rows = (
        payments.annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(count=Count("pk"), amount=Sum("amount"))
        .order_by("day")
    )
    by_day = {row["day"]: row for row in rows}
    today = today or timezone.now().date()
    per_day = []
    for offset in range(days - 1, -1, -1):
        day = today - timedelta(days=offset)
        row = by_day.get(day, {})
        per_day.append(
            {"day": day, "count": row.get("count", 0), "amount": row.get("amount") or ZERO}
        )

    outcome = payments.aggregate(
        final=Count("pk", filter=Q(status__in=FINAL)),
        succeeded=Count("pk", filter=Q(status__in=SUCCEEDED)),
        captured=Sum("captured_amount"),
        refunded=Sum("refunded_amount"),
        count=Count("pk"),
        amount=Sum("amount"),
    )
    attempts = Transaction.objects.filter(
        created_at__gte=since,
        transaction_type__in=[TransactionType.CHARGE, TransactionType.AUTHORIZATION],
        status__in=[TransactionStatus.SUCCEEDED, TransactionStatus.FAILED],
        idempotency_key__isnull=False,
    )
    to_final = attempts.aggregate(
        avg=Avg(
            ExpressionWrapper(F("processed_at") - F("created_at"), output_field=DurationField())
        )
    )["avg"]
    failures = list(
        payments.filter(status=PaymentStatus.FAILED)
        .values("failure_code")
        .annotate(count=Count("pk"))
        .order_by("-count", "failure_code")
    )
    latency = list(
        Transaction.objects.filter(created_at__gte=since, gateway_latency_ms__isnull=False)
        .values(payment_method=F("payment__payment_method"))
        .annotate(avg_ms=Avg("gateway_latency_ms"), calls=Count("pk"))
        .order_by("payment_method")
    )
    captured = outcome["captured"] or ZERO
    return Dashboard(
        days=days,
        per_day=per_day,
        success_rate=(outcome["succeeded"] / outcome["final"]) if outcome["final"] else None,
        refund_rate=float((outcome["refunded"] or ZERO) / captured) if captured else None,
        avg_seconds_to_final=to_final.total_seconds() if to_final is not None else None,
        failures_by_code=failures,
        latency_by_gateway=latency,
        totals={
            "count": outcome["count"],
            "amount": outcome["amount"] or ZERO,
            "captured": captured,
            "refunded": outcome["refunded"] or ZERO,
        },
    )

"""Figures for the finance dashboard, each one database aggregation over a period.

Amounts and the refund rate are per currency, never summed across currencies (PEN plus JPY
means nothing); counts and rates, which mix meaningfully, are also given for all payments.
Payments and their amount count what was created in the period; captured and refunded count
the money the ledger moved in it, as the settlement report does, whenever its payment began.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q, Sum
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from backoffice.settlement import GROSS
from gamarriando.money import quantize
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
class CurrencyFigures:
    currency: str
    count: int
    amount: Decimal
    captured: Decimal
    refunded: Decimal
    success_rate: float | None
    refund_rate: Decimal | None  # refunded / captured, exact
    per_day: list[dict]  # {"day", "count", "amount"}


@dataclass(frozen=True)
class Dashboard:
    days: int
    per_day: list[dict]  # {"day", "count"}: counts mix across currencies, amounts do not
    success_rate: float | None
    avg_seconds_to_final: float | None
    failures_by_code: list[dict]  # {"failure_code", "count"}
    latency_by_gateway: list[dict]  # {"payment_method", "avg_ms", "calls"}
    totals: dict  # {"count"} only: an amount total across currencies would be meaningless
    currencies: list[CurrencyFigures]


def _days(today: date, days: int) -> list[date]:
    return [today - timedelta(days=offset) for offset in range(days - 1, -1, -1)]


def _rate(part, whole):
    return (part / whole) if whole else None


def _moved(since: datetime) -> dict[str, dict]:
    """Return per currency the money captured and refunded (net of refunds that bounced) since then."""
    rows = (
        Transaction.objects.filter(status=TransactionStatus.SUCCEEDED)
        .annotate(moved_at=Coalesce("processed_at", "created_at"))
        .filter(moved_at__gte=since)
        .values("currency")
        .annotate(
            captured=Sum("amount", filter=Q(transaction_type__in=GROSS)),
            refunded=Sum("amount", filter=Q(transaction_type=TransactionType.REFUND)),
            bounced=Sum("amount", filter=Q(transaction_type=TransactionType.REFUND_REVERSAL)),
        )
        .order_by()
    )
    return {
        row["currency"]: {
            "captured": row["captured"] or ZERO,
            "refunded": (row["refunded"] or ZERO) - (row["bounced"] or ZERO),
        }
        for row in rows
        if row["captured"] or row["refunded"] or row["bounced"]
    }


def _currency_blocks(payments, days: list[date], since: datetime) -> list[CurrencyFigures]:
    created = {
        row["currency"]: row
        for row in payments.values("currency")
        .annotate(
            count=Count("pk"),
            amount=Sum("amount"),
            final=Count("pk", filter=Q(status__in=FINAL)),
            succeeded=Count("pk", filter=Q(status__in=SUCCEEDED)),
        )
        .order_by()
    }
    moved = _moved(since)
    # A currency whose only activity was a refund of an older payment still gets its block.
    empty = {"count": 0, "amount": None, "final": 0, "succeeded": 0}
    outcome = [
        {"currency": currency, **created.get(currency, empty), **moved.get(currency, {})}
        for currency in sorted(created.keys() | moved.keys())
    ]
    daily = (
        payments.annotate(day=TruncDate("created_at"))
        .values("currency", "day")
        .annotate(count=Count("pk"), amount=Sum("amount"))
        .order_by()
    )
    by_day = {(row["currency"], row["day"]): row for row in daily}
    blocks = []
    for row in outcome:
        currency = row["currency"]

        def money(value, currency=currency):
            # The currency's own decimals: a JPY sum is 4800, not 4800.00.
            return quantize(value or ZERO, currency)

        captured, refunded = money(row.get("captured")), money(row.get("refunded"))
        per_day = []
        for day in days:
            found = by_day.get((row["currency"], day), {})
            per_day.append(
                {"day": day, "count": found.get("count", 0), "amount": money(found.get("amount"))}
            )
        blocks.append(
            CurrencyFigures(
                currency=row["currency"],
                count=row["count"],
                amount=money(row["amount"]),
                captured=captured,
                refunded=refunded,
                success_rate=_rate(row["succeeded"], row["final"]),
                refund_rate=_rate(refunded, captured),
                per_day=per_day,
            )
        )
    return blocks


def dashboard_figures(*, days: int, today: date | None = None) -> Dashboard:
    """Aggregate payments created and money moved in the last `days` calendar days, today's included."""
    today = today or timezone.localdate()
    period = _days(today, days)
    # From the first day's midnight (local time), as the per-day charts count: the figures then
    # add up to the bars, not to a partial day more that no bar shows.
    since = timezone.make_aware(datetime.combine(period[0], time.min))
    payments = Payment.objects.filter(created_at__gte=since)
    blocks = _currency_blocks(payments, period, since)
    outcome = payments.aggregate(
        final=Count("pk", filter=Q(status__in=FINAL)),
        succeeded=Count("pk", filter=Q(status__in=SUCCEEDED)),
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
    per_day = [
        {"day": day, "count": sum(block.per_day[index]["count"] for block in blocks)}
        for index, day in enumerate(period)
    ]
    return Dashboard(
        days=days,
        per_day=per_day,
        success_rate=_rate(outcome["succeeded"], outcome["final"]),
        avg_seconds_to_final=to_final.total_seconds() if to_final is not None else None,
        failures_by_code=failures,
        latency_by_gateway=latency,
        totals={"count": sum(block.count for block in blocks)},
        currencies=blocks,
    )

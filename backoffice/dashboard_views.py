"""The payments dashboard: how payments are doing over a period, one block per currency."""

from decimal import Decimal
from functools import partial

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse

from backoffice import charts, dashboard
from gamarriando import money


def dashboard_view(request):
    """Show how payments are doing over a chosen period, one block of amounts per currency."""
    if not request.user.has_perm("payments.view_payment"):
        raise PermissionDenied
    period = request.GET.get("days", "30")
    days = dashboard.PERIODS.get(period, 30)
    figures = dashboard.dashboard_figures(days=days)
    per_day_count = charts.bar_chart(
        [(f"{p['day']:%m-%d}", p["count"]) for p in figures.per_day],
        title="Payments per day (all currencies)",
    )
    failures = charts.bar_chart(
        [(f["failure_code"] or "unknown", f["count"]) for f in figures.failures_by_code],
        title="Failures by code",
    )
    latency = charts.bar_chart(
        [
            (row["payment_method"], round(row["avg_ms"] or 0, 1))
            for row in figures.latency_by_gateway
        ],
        title="Average gateway latency",
        unit=" ms",
    )
    blocks = [
        {
            "figures": block,
            "success_rate": _percent(block.success_rate),
            "refund_rate": _percent(block.refund_rate),
            "chart": charts.bar_chart(
                [(f"{p['day']:%m-%d}", p["amount"]) for p in block.per_day],
                title=f"Amount per day ({block.currency})",
                unit=f" {block.currency}",
                shown=partial(money.format_amount, currency=block.currency),
            ),
        }
        for block in figures.currencies
    ]
    context = {
        **admin.site.each_context(request),
        "title": "Payments dashboard",
        "figures": figures,
        "currency_blocks": blocks,
        "periods": list(dashboard.PERIODS),
        "period": str(days),
        "charts": [per_day_count, failures, latency],
        "success_rate": _percent(figures.success_rate),
        "to_final": None
        if figures.avg_seconds_to_final is None
        else round(figures.avg_seconds_to_final, 2),
        "zero": Decimal("0"),
    }
    return TemplateResponse(request, "admin/backoffice/dashboard.html", context)


def _percent(rate) -> float | None:
    return None if rate is None else round(float(rate) * 100, 1)

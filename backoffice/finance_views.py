"""Finance's screens: the settlement report (page and CSV) and the open disputes by deadline."""

from datetime import date, timedelta

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from backoffice import settlement
from backoffice.exports import csv_lines
from payments.dispute_transitions import OPEN
from payments.models import Dispute, Payment

MAX_DAYS = 366
# Far enough for any ledger, near enough that a day's bounds and the 30-day default never
# step past the years Python's dates hold (9999-12-31 + 1 day would raise).
EARLIEST, LATEST = date(1900, 1, 1), date(9000, 12, 31)


def _date(value: str | None, default: date | None) -> date | None:
    try:
        day = date.fromisoformat(value) if value else default
    except ValueError:
        return default
    return day if EARLIEST <= day <= LATEST else default


def settlement_view(request):
    """Show or download the settlement report for a date range (default: the last 30 days)."""
    if not request.user.has_perm("payments.view_payment"):
        raise PermissionDenied
    today = timezone.localdate()
    end = _date(request.GET.get("end"), today)
    start = _date(request.GET.get("start"), end - timedelta(days=29))
    start = max(min(start, end), end - timedelta(days=MAX_DAYS))
    rows = settlement.settlement_rows(start=start, end=end)
    if request.GET.get("format") == "csv":
        text = "".join(csv_lines(settlement.COLUMNS, rows, lambda row: row.cells()))
        response = HttpResponse(text, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="settlement-{start}-{end}.csv"'
        return response
    used = {"start": start, "end": end}
    if any(
        _date(request.GET.get(name), None) != used[name] for name in used if request.GET.get(name)
    ):
        messages.warning(
            request,
            "The dates asked for could not be used as they are (a day that is not a date, "
            f"a start after the end or more than {MAX_DAYS} days); showing {start} to {end}.",
        )
    context = {
        **admin.site.each_context(request),
        "title": "Settlement report",
        "rows": rows,
        "start": start,
        "end": end,
        "opts": Payment._meta,
    }
    return TemplateResponse(request, "admin/backoffice/settlement.html", context)


def open_disputes_view(request):
    """List open disputes, the nearest evidence deadline first."""
    if not request.user.has_perm("payments.view_payment"):
        raise PermissionDenied
    disputes = (
        Dispute.objects.filter(status__in=OPEN)
        .select_related("payment__order__user")
        .order_by("evidence_due_by", "pk")
    )
    context = {
        **admin.site.each_context(request),
        "title": "Open disputes by deadline",
        "disputes": disputes,
        "now": timezone.now(),
        "opts": Dispute._meta,
    }
    return TemplateResponse(request, "admin/backoffice/open_disputes.html", context)

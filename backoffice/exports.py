"""CSV exports of the ledger and of payments, streamed from the admin list pages' own filters.

The export reuses the list page's ChangeList, so what the clerk filtered (date range, status,
currency, search) is exactly what is exported. Rows are read with a server-side cursor in
chunks and written as they come, so a million rows never sit in memory.
"""

import csv
from collections.abc import Iterator
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.utils import timezone

from gamarriando.money import format_amount
from payments.models import Payment
from transactions.models import Transaction
from transactions.selectors import money_gateway

CHUNK = 2000
TEXT_TRAPS = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet would run these as formulas


class _Echo:
    def write(self, value):
        return value


def _text(value) -> str:
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(TEXT_TRAPS) else text


def _times(value) -> list[str]:
    if value is None:
        return ["", ""]
    shop = ZoneInfo(settings.SHOP_TIME_ZONE)
    return [
        timezone.localtime(value, ZoneInfo("UTC")).isoformat(),
        timezone.localtime(value, shop).isoformat(),
    ]


LEDGER_FIELDS = [
    "pk",
    "created_at",
    "processed_at",
    "payment_id",
    "payment__order__order_number",
    "payment__order__user__email",
    money_gateway(),  # a refund to store credit went through the wallet, not the card's gateway
    "gateway_transaction_id",
    "transaction_type",
    "status",
    "amount",
    "currency",
    "created_by__email",
    "reason",
    "failure_reason",
]
LEDGER_HEADER = [
    "id",
    "created_at_utc",
    "created_at_shop",
    "processed_at_utc",
    "processed_at_shop",
    "payment_id",
    "order_number",
    "customer_email",
    "gateway",
    "gateway_reference",
    "type",
    "status",
    "amount",
    "currency",
    "actor",
    "reason",
    "failure_reason",
]


def _ledger_line(row) -> list:
    (pk, created, processed, payment_id, order, email, gateway, ref, kind, status, amount,
     currency, actor, reason, failure) = row  # fmt: skip
    return [pk, *_times(created), *_times(processed), payment_id, _text(order), _text(email),
            gateway, _text(ref), kind, status, format_amount(amount, currency), currency,
            _text(actor or "system"), _text(reason), _text(failure)]  # fmt: skip


PAYMENT_FIELDS = [
    "pk",
    "created_at",
    "processed_at",
    "order__order_number",
    "order__user__email",
    "payment_method",
    "gateway_transaction_id",
    "status",
    "amount",
    "captured_amount",
    "refunded_amount",
    "currency",
    "disputed",
    "failure_code",
]
PAYMENT_HEADER = [
    "id",
    "created_at_utc",
    "created_at_shop",
    "processed_at_utc",
    "processed_at_shop",
    "order_number",
    "customer_email",
    "gateway",
    "gateway_reference",
    "status",
    "amount",
    "captured_amount",
    "refunded_amount",
    "currency",
    "disputed",
    "failure_code",
]


def _payment_line(row) -> list:
    (pk, created, processed, order, email, gateway, ref, status, amount, captured, refunded,
     currency, disputed, failure) = row  # fmt: skip
    return [pk, *_times(created), *_times(processed), _text(order), _text(email), gateway,
            _text(ref), status, format_amount(amount, currency), format_amount(captured, currency),
            format_amount(refunded, currency), currency, "yes" if disputed else "no",
            failure]  # fmt: skip


EXPORTS = {
    "ledger": (Transaction, LEDGER_FIELDS, LEDGER_HEADER, _ledger_line),
    "payments": (Payment, PAYMENT_FIELDS, PAYMENT_HEADER, _payment_line),
}


def csv_lines(header: list[str], rows, line) -> Iterator[str]:
    """Yield the CSV text line by line, after a byte order mark."""
    writer = csv.writer(_Echo())
    # Excel reads a CSV without the mark in the machine's legacy code page: "Zoë" and "€"
    # would come out garbled on a Windows clerk's screen. Readers that know UTF-8 skip it.
    yield "\ufeff" + writer.writerow(header)
    for row in rows:
        yield writer.writerow(line(row))


def export_view(request, name: str):
    """Stream the list page's filtered rows as CSV (same permission as seeing the list)."""
    model, fields, header, line = EXPORTS[name]
    model_admin = admin.site.get_model_admin(model)
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    try:
        changelist = model_admin.get_changelist_instance(request)
        queryset = changelist.get_queryset(request).order_by("pk").values_list(*fields)
    except (IncorrectLookupParameters, ValidationError) as exc:
        # The list page would redirect with ?e=1; a download answers plainly instead.
        return HttpResponseBadRequest(
            f"Unknown or malformed filter: {exc}", content_type="text/plain; charset=utf-8"
        )
    response = StreamingHttpResponse(
        csv_lines(header, queryset.iterator(chunk_size=CHUNK), line),
        content_type="text/csv; charset=utf-8",
    )
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="{name}-{stamp}.csv"'
    return response

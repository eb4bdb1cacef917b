"""Finance's view of the money: per-currency dashboard, settlement report, CSV exports, disputes."""

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone
from djstripe.models import BalanceTransaction

from backoffice.finance_views import EARLIEST
from backoffice.settlement import settlement_rows
from backoffice.tests.helpers import operation_url, submit
from orders.tests.factories import ProductFactory
from payments.models import Dispute, Payment
from payments.services import payment_process
from payments.services.disputes import dispute_record, disputes_remind_deadlines
from tests.helpers import make_order, make_paid, make_payment, record_dispute
from transactions.models import Transaction

pytestmark = pytest.mark.django_db(transaction=True)


def _paid(customer, price, currency, token="tok_success"):
    product = ProductFactory(price=Decimal(price), currency=currency, stock=50)
    order = make_order(customer, product, currency=currency)
    payment = make_payment(customer, order)
    payment_process(payment_id=payment.pk, actor=customer, payment_method_id=token)
    payment.refresh_from_db()
    return payment


@pytest.fixture
def mixed(customer, finance, browser_for):
    pen = _paid(customer, "80.00", "PEN")
    _paid(customer, "20.00", "PEN")
    _paid(customer, "15.00", "USD")
    _paid(customer, "9.99", "USD", token="tok_declined")
    jpy = _paid(customer, "4800", "JPY")
    client = browser_for(finance)
    submit(client, operation_url(pen, "refund"), amount="30.00", reason="one polo returned")
    submit(client, operation_url(jpy, "refund"), amount="4800", reason="returned")
    return client


def test_dashboard_figures_are_per_currency_and_never_summed(mixed):
    page = mixed.get("/admin/payments/payment/dashboard/?days=7")
    figures = page.context["figures"]
    blocks = {block.currency: block for block in figures.currencies}
    assert list(blocks) == ["JPY", "PEN", "USD"]
    pen, usd, jpy = blocks["PEN"], blocks["USD"], blocks["JPY"]
    assert (pen.count, pen.amount, pen.captured, pen.refunded) == (
        2,
        Decimal("100.00"),
        Decimal("100.00"),
        Decimal("30.00"),
    )
    assert pen.refund_rate == Decimal("0.3")
    assert (usd.count, usd.amount, usd.captured, usd.refunded) == (
        2,
        Decimal("24.99"),
        Decimal("15.00"),
        Decimal("0"),
    )
    assert usd.success_rate == pytest.approx(0.5) and usd.refund_rate == 0
    assert (jpy.amount, jpy.refunded, jpy.refund_rate) == (Decimal("4800"), Decimal("4800"), 1)
    # Counts and rates mix meaningfully; no amount total across currencies exists at all.
    assert figures.totals == {"count": 5}
    assert figures.success_rate == pytest.approx(4 / 5)
    assert sum(day["count"] for day in figures.per_day) == 5
    html = page.content.decode()
    for currency, amount in (("PEN", "100.00"), ("USD", "24.99"), ("JPY", "4800")):
        assert f'class="amount">{amount} {currency}<' in html
    assert "4924.99" not in html and "4924" not in html


def test_ledger_export_streams_the_filtered_rows_with_accountant_columns(mixed):
    response = mixed.get(
        "/admin/transactions/transaction/export.csv?transaction_type__exact=refund"
    )
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"].startswith("text/csv")
    content = b"".join(response.streaming_content)
    assert content.startswith("\ufeffid,".encode())  # the mark Excel needs to read UTF-8
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))
    assert [(r["type"], r["amount"], r["currency"]) for r in rows] == [
        ("refund", "30.00", "PEN"),
        ("refund", "4800", "JPY"),
    ]
    first = rows[0]
    assert first["customer_email"] == "customer@example.com"
    assert first["actor"] == "finance@example.com" and first["reason"] == "one polo returned"
    assert first["created_at_utc"].endswith("+00:00") and first["created_at_shop"].endswith(
        "-05:00"
    )
    assert first["order_number"] and first["gateway_reference"].startswith("sim_")


def test_payments_export_keeps_the_list_filters_and_date_range(mixed):
    today = timezone.now().date()
    url = (
        "/admin/payments/payment/export.csv?currency__exact=USD"
        f"&created_at__gte={today}&created_at__lt={today + timedelta(days=1)}"
    )
    rows = list(csv.DictReader(io.StringIO(b"".join(mixed.get(url).streaming_content).decode())))
    assert sorted((r["status"], r["amount"]) for r in rows) == [
        ("completed", "15.00"),
        ("failed", "9.99"),
    ]
    before = f"/admin/payments/payment/export.csv?created_at__lt={today}"
    assert b"".join(mixed.get(before).streaming_content).decode().count("\n") == 1  # header only
    for bad in ("created_at__gte=yesterday", "no_such_field=1"):
        refused = mixed.get(f"/admin/payments/payment/export.csv?{bad}")
        assert refused.status_code == 400
        assert refused["Content-Type"] == "text/plain; charset=utf-8"  # its quotes read right
    page = mixed.get("/admin/payments/payment/?currency__exact=USD").content.decode()
    assert "/admin/payments/payment/export.csv?currency__exact=USD" in page


def test_export_neutralises_spreadsheet_formulas_and_needs_view_permission(
    customer, finance, browser_for
):
    payment = _paid(customer, "10.00", "PEN")
    submit(
        browser_for(finance),
        operation_url(payment, "refund"),
        amount="1.00",
        reason="=HYPERLINK(1)",
    )
    from tests.factories import UserFactory

    nobody = UserFactory(email="nobody@example.com", is_staff=True)
    assert browser_for(nobody).get("/admin/transactions/transaction/export.csv").status_code == 403
    text = b"".join(
        browser_for(finance).get("/admin/transactions/transaction/export.csv").streaming_content
    ).decode()
    assert "'=HYPERLINK(1)" in text


def test_settlement_report_groups_by_day_currency_gateway_and_leaves_unknown_fees_blank(mixed):
    today = timezone.now().date()
    screen = mixed.get("/admin/payments/payment/settlement/").content.decode()
    assert "<th>Day (UTC)</th>" in screen and "Days are UTC days" in screen
    rows = {(r.currency, r.gateway): r for r in settlement_rows(start=today, end=today)}
    pen = rows[("PEN", "simulated")]
    assert (pen.gross, pen.refunds, pen.chargebacks, pen.fees, pen.net) == (
        Decimal("100.00"),
        Decimal("30.00"),
        Decimal("0"),
        None,
        None,
    )
    assert str(rows[("JPY", "simulated")].gross) == "4800"
    page = mixed.get(f"/admin/payments/payment/settlement/?start={today}&end={today}")
    assert page.status_code == 200 and len(page.context["rows"]) == 3
    download = mixed.get(
        f"/admin/payments/payment/settlement/?start={today}&end={today}&format=csv"
    )
    # With the byte order mark Excel needs to read UTF-8; a reader that knows UTF-8 skips it.
    assert download.content.startswith("\ufeffday,".encode())
    lines = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert lines[0] == [
        "day",
        "currency",
        "gateway",
        "gross",
        "refunds",
        "chargebacks",
        "fees",
        "net",
    ]
    assert [str(today), "PEN", "simulated", "100.00", "30.00", "0.00", "", ""] in lines
    assert [str(today), "JPY", "simulated", "4800", "4800", "0", "", ""] in lines


def test_settlement_takes_fees_and_net_from_stripe_balance_transactions(customer, finance):
    payment = _paid(customer, "50.00", "PEN")
    # Pretend the gateway were Stripe and dj-stripe had mirrored the charge's balance transaction.
    Payment.objects.filter(pk=payment.pk).update(payment_method="stripe")
    ref = Transaction.objects.get(payment=payment).gateway_transaction_id
    today = timezone.now().date()
    assert settlement_rows(start=today, end=today)[0].fees is None
    BalanceTransaction.objects.create(
        id="txn_fake1",
        livemode=False,
        amount=5000,
        currency="pen",
        source=ref,
        type="charge",
        stripe_data={"fee": 219, "net": 4781},
    )
    row = settlement_rows(start=today, end=today)[0]
    assert (row.gateway, row.gross, row.fees, row.net) == (
        "stripe",
        Decimal("50.00"),
        Decimal("2.19"),
        Decimal("47.81"),
    )


def test_a_dispute_mails_finance_and_its_loss_and_win_move_the_ledger(
    customer, finance, browser_for, api
):
    _, payment = make_paid(customer, ProductFactory(price=Decimal("40.00"), stock=5))
    mail.outbox.clear()  # the customer's receipt
    due = timezone.now() + timedelta(days=7)
    record = dict(
        payment_id=payment.pk,
        gateway="simulated",
        gateway_dispute_id="dp_1",
        amount=Decimal("40.00"),
        currency="PEN",
        reason="fraudulent",
        evidence_due_by=due,
    )
    dispute_record(status="needs_response", **record)
    dispute_record(status="needs_response", **record)  # a repeated event changes nothing
    assert [m.subject for m in mail.outbox] == ["A payment was disputed"]
    assert mail.outbox[0].to == ["finance@example.com"] and "dp_1" in mail.outbox[0].body
    body = api(customer).get(f"/api/v1/payments/{payment.pk}").json()
    assert (body["disputed"], body["dispute_status"]) == (True, "needs_response")
    page = browser_for(finance).get("/admin/payments/dispute/open/")
    assert [d.gateway_dispute_id for d in page.context["disputes"]] == ["dp_1"]

    assert disputes_remind_deadlines(now=due - timedelta(days=4)) == 0
    assert disputes_remind_deadlines(now=due - timedelta(days=2, hours=23)) == 1
    assert disputes_remind_deadlines(now=due - timedelta(days=2)) == 0  # once only
    assert [m.subject for m in mail.outbox][1:] == ["Dispute evidence due in three days"]

    dispute_record(status="lost", **record)
    dispute_record(status="lost", **record)
    kinds = lambda: list(  # noqa: E731
        Transaction.objects.filter(payment=payment)
        .order_by("pk")
        .values_list("transaction_type", "amount", "gateway_transaction_id")
    )
    assert kinds()[1:] == [("chargeback", Decimal("40.00"), "dp_1")]
    # The bank took it all back: the payment's page offers no refund of what is not there.
    page = browser_for(finance).get(f"/admin/payments/payment/{payment.pk}/change/")
    assert 'id="refund-button"' not in page.content.decode()
    dispute_record(status="won", **record)
    page = browser_for(finance).get(f"/admin/payments/payment/{payment.pk}/change/")
    assert 'id="refund-button"' in page.content.decode()  # won back: refundable again
    assert kinds()[1:] == [
        ("chargeback", Decimal("40.00"), "dp_1"),
        ("chargeback_reversal", Decimal("40.00"), "dp_1"),
    ]
    dispute_record(status="needs_response", **record)  # a late, stale event cannot reopen it
    assert Dispute.objects.get().status == "won"
    today = timezone.now().date()
    assert settlement_rows(start=today, end=today)[0].chargebacks == Decimal("0.00")
    assert (
        browser_for(finance).get("/admin/payments/dispute/open/").context["disputes"].count() == 0
    )


def test_offline_records_cannot_invent_chargebacks(api, finance, customer):
    _, payment = make_paid(customer, ProductFactory(price=Decimal("40.00"), stock=5))
    response = api(finance).post(
        "/api/v1/transactions",
        {
            "payment_id": payment.pk,
            "transaction_type": "chargeback",
            "amount": "5.00",
            "reason": "x",
        },
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-chargeback-1",
    )
    assert response.status_code == 400


def test_open_disputes_are_listed_nearest_deadline_first(customer, finance, browser_for):
    now = timezone.now()
    product = ProductFactory(price=Decimal("10.00"), stock=10)
    for ref, days, status in (
        ("dp_late", 9, "needs_response"),
        ("dp_closed", 1, "lost"),
        ("dp_soon", 2, "under_review"),
        ("dp_mid", 5, "warning_needs_response"),
    ):
        _, payment = make_paid(customer, product)
        record_dispute(payment, ref, status, amount="10.00", due=now + timedelta(days=days))
    client = browser_for(finance)
    page = client.get("/admin/payments/dispute/open/")
    assert [d.gateway_dispute_id for d in page.context["disputes"]] == [
        "dp_soon",
        "dp_mid",
        "dp_late",
    ]
    listing = client.get("/admin/payments/dispute/").content.decode()
    order = [listing.index(ref) for ref in ("dp_soon", "dp_mid", "dp_late", "dp_closed")]
    assert order == sorted(order)


@pytest.mark.parametrize(
    "query",
    ["end=9999-12-31", "start=9999-12-31&end=0001-01-01", "start=0001-01-01", "end=2026-02-30"],
)
def test_settlement_dates_past_the_calendar_fall_back_to_the_default_range(
    finance, browser_for, query
):
    page = browser_for(finance).get(f"/admin/payments/payment/settlement/?{query}")
    assert page.status_code == 200
    today = timezone.localdate()
    assert EARLIEST <= page.context["start"] <= page.context["end"] <= today

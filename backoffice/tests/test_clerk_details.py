"""What a new finance clerk tripped on: yen shown as yen, reasons kept, filters kept, notices."""

from decimal import Decimal

import pytest

from backoffice.tests.helpers import form_nonce, operation_url, submit
from orders.tests.factories import ProductFactory
from tests.helpers import make_paid, record_dispute
from transactions.models import Transaction
from wallets.tests.factories import funded_wallet

pytestmark = pytest.mark.django_db(transaction=True)


def yen_paid(customer):
    return make_paid(customer, ProductFactory(price=Decimal("4800"), currency="JPY", stock=5))


def test_yen_is_shown_without_decimals_on_the_wallet_cancel_and_dispute_screens(
    browser_for, finance, customer
):
    order, payment = yen_paid(customer)
    wallet = funded_wallet(customer, amount="9600", currency="JPY")
    record_dispute(payment, "dp_yen", amount="4800")
    client = browser_for(finance)
    pages = {
        "wallet": client.get(f"/admin/wallets/wallet/{wallet.pk}/adjust/"),
        "cancel": client.get(f"/admin/orders/order/{order.pk}/cancel/"),
        "disputes": client.get("/admin/payments/dispute/open/"),
    }
    expected = {"wallet": "9600 JPY", "cancel": "paid 4800 JPY", "disputes": "4800 JPY"}
    for name, page in pages.items():
        content = page.content.decode()
        assert page.status_code == 200, name
        assert expected[name] in content and ".00 JPY" not in content, name


def test_the_void_keeps_the_clerks_reason(browser_for, finance, customer):
    product = ProductFactory(price=Decimal("40.00"), stock=5)
    _, payment = make_paid(customer, product, capture=False)
    submit(browser_for(finance), operation_url(payment, "void"), reason="customer changed order")
    void = Transaction.objects.get(payment=payment, transaction_type="void")
    assert (void.status, void.reason) == ("succeeded", "customer changed order")


def test_a_refund_to_store_credit_says_so_before_and_after(browser_for, finance, paid):
    _, payment = paid
    client = browser_for(finance)
    url = operation_url(payment, "refund")
    nonce = form_nonce(client, url)
    data = {"nonce": nonce, "amount": "80.00", "reason": "credit", "destination": "wallet"}
    confirm = client.post(url, data).content.decode()
    assert "refund <strong>80.00 PEN</strong> to the customer's <strong>store credit" in confirm
    done = client.post(url, {**data, "confirm": "True"})
    assert (
        "Refund of 80.00 PEN to store credit: succeeded."
        in client.get(done["Location"]).content.decode()
    )


def test_an_empty_refund_amount_confirms_and_refunds_everything(browser_for, finance, paid):
    _, payment = paid
    client = browser_for(finance)
    url = operation_url(payment, "refund")
    nonce = form_nonce(client, url)
    confirm = client.post(url, {"nonce": nonce, "amount": "", "reason": "all of it"})
    assert confirm.context["confirming"]
    assert "refund <strong>80.00 PEN</strong>" in confirm.content.decode()
    client.post(url, {"nonce": nonce, "amount": "80.00", "reason": "all of it", "confirm": "True"})
    payment.refresh_from_db()
    assert (payment.status, payment.refunded_amount) == ("refunded", Decimal("80.00"))


def test_amount_floor_is_named_in_the_currency(browser_for, finance, customer):
    _, payment = yen_paid(customer)
    client = browser_for(finance)
    url = operation_url(payment, "refund")
    nonce = form_nonce(client, url)
    for amount in ("0", "-5"):
        first = client.post(url, {"nonce": nonce, "amount": amount, "reason": "x"})
        assert first.context["form"].errors["amount"] == ["Enter at least 1 JPY."]


def test_a_screen_that_cannot_act_says_why_instead_of_asking(browser_for, finance, paid):
    _, payment = paid  # completed: nothing to capture or void
    client = browser_for(finance)
    for name in ("capture", "void"):
        page = client.get(operation_url(payment, name)).content.decode()
        assert 'id="operation-unavailable"' in page, name
        assert "Only an authorized payment can be" in page and 'id="continue-button"' not in page
    refund = client.get(operation_url(payment, "refund")).content.decode()
    assert 'id="continue-button"' in refund and 'id="operation-unavailable"' not in refund


def test_the_date_range_keeps_the_other_filters_and_shows_itself(browser_for, finance, paid):
    client = browser_for(finance)
    for path in ("/admin/payments/payment/", "/admin/transactions/transaction/"):
        page = client.get(
            f"{path}?status__exact=succeeded&q=x&created_at__gte=2026-11-01&p=2"
        ).content.decode()
        form = page[page.index('id="date-range"') :]
        form = form[: form.index("</form>")]
        assert '<input type="hidden" name="status__exact" value="succeeded">' in form
        assert '<input type="hidden" name="q" value="x">' in form
        assert 'name="p"' not in form  # a new range starts on its first page
        assert 'name="created_at__gte" value="2026-11-01"' in form


def test_a_range_with_one_end_left_empty_keeps_the_other_filters(browser_for, finance, paid):
    _, payment = paid
    client = browser_for(finance)
    for path in ("/admin/payments/payment/", "/admin/transactions/transaction/"):
        # The form sends its empty "to" box: an open end, the currency filter stays.
        page = client.get(
            f"{path}?currency__exact=PEN&created_at__gte=2000-01-01&created_at__lt=", follow=True
        )
        assert (
            page.redirect_chain[-1][0] == f"{path}?currency__exact=PEN&created_at__gte=2000-01-01"
        )
        assert "e=1" not in page.redirect_chain[-1][0]
        assert page.context["cl"].result_count >= 1
        usd = client.get(
            f"{path}?currency__exact=USD&created_at__gte=2000-01-01&created_at__lt=", follow=True
        )
        assert usd.context["cl"].result_count == 0  # not every row: the filter is in force
        # A bound given twice, once empty: the given one stays.
        twice = client.get(f"{path}?created_at__gte=2000-01-01&created_at__gte=", follow=True)
        assert twice.redirect_chain[-1][0] == f"{path}?created_at__gte=2000-01-01"


def test_the_sidebar_range_shows_its_dates_in_the_range_form(browser_for, finance, paid):
    page = (
        browser_for(finance)
        .get(
            "/admin/payments/payment/?created_at__gte=2026-11-24+00:00:00%2B00:00"
            "&created_at__lt=2026-12-02+00:00:00%2B00:00"
        )
        .content.decode()
    )
    form = page[page.index('id="date-range"') :]
    assert 'name="created_at__gte" value="2026-11-24"' in form
    assert 'name="created_at__lt" value="2026-12-02"' in form


def test_no_view_site_link_to_a_missing_page(browser_for, finance):
    page = browser_for(finance).get("/admin/").content.decode()
    assert "View site" not in page


def test_a_list_drops_only_the_unusable_filter_and_says_so(browser_for, finance, paid):
    client = browser_for(finance)
    for path in ("/admin/payments/payment/", "/admin/transactions/transaction/"):
        for bad in ("created_at__gte=notadate", "amount__lt=lots", "created_at__exact=2026-13-45"):
            page = client.get(f"{path}?{bad}&currency__exact=USD", follow=True)
            # The currency filter stays in force: no PEN row comes back with the notice.
            assert page.redirect_chain[-1][0] == f"{path}?currency__exact=USD"
            assert page.context["cl"].result_count == 0
            text = page.content.decode()
            assert "is not a value this list can use; it was dropped and the other" in text
    # What only Django can judge (a date hierarchy's part) still shows every row, with a notice.
    redirected = client.get("/admin/payments/payment/?created_at__year=abc")
    assert redirected.status_code == 302 and redirected["Location"].endswith("?e=1")
    page = client.get(redirected["Location"]).content.decode()
    assert "A filter in the address had a value this list cannot use" in page


def test_the_settlement_report_names_a_range_it_replaced(browser_for, finance):
    client = browser_for(finance)
    notice = "The dates asked for could not be used as they are"
    assert (
        notice in client.get("/admin/payments/payment/settlement/?start=notadate").content.decode()
    )
    assert (
        notice
        in client.get(
            "/admin/payments/payment/settlement/?start=2026-11-20&end=2026-11-01"
        ).content.decode()
    )
    assert (
        notice
        not in client.get(
            "/admin/payments/payment/settlement/?start=2026-11-01&end=2026-11-20"
        ).content.decode()
    )


def test_a_partial_capture_warns_that_the_order_stays_short(browser_for, finance, customer):
    product = ProductFactory(price=Decimal("900"), currency="JPY", stock=5)
    _, payment = make_paid(customer, product, capture=False)
    client = browser_for(finance)
    url = operation_url(payment, "capture")
    nonce = form_nonce(client, url)
    partial = client.post(url, {"nonce": nonce, "amount": "500"})
    assert "will still have 400 JPY due: it stays pending" in partial.content.decode()
    whole = client.post(url, {"nonce": nonce, "amount": "900"})
    assert whole.context["confirming"] and 'id="left-due"' not in whole.content.decode()

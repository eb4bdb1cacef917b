"""End to end in a real browser: a finance clerk signs in with a TOTP code and refunds part of a
payment in the admin."""

import os
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from orders.tests.factories import ProductFactory
from payments.services import payment_process
from tests.factories import UserFactory
from tests.helpers import make_order, make_paid, make_payment
from transactions.models import Transaction

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DOCS = Path(__file__).resolve().parents[2] / "docs"
playwright = pytest.importorskip("playwright.sync_api")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
]


@pytest.fixture(autouse=True)
def _isolate_celery_app():
    # conftest's version copies the Celery app's settings, which read Django's settings by name;
    # under live_server's settings override one of those names (_explicit_settings) cannot be
    # read, and the copy fails. Nothing in this module changes the Celery app.
    yield


@pytest.fixture
def page(live_server, monkeypatch):
    # Playwright's sync API runs an event loop in this thread; the ORM calls here are plain.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with playwright.sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        yield context.new_page()
        browser.close()


def test_finance_clerk_refunds_part_of_a_payment(live_server, page, staff_groups, settings):
    settings.OTP_REQUIRED_FOR_MONEY_STAFF = True
    customer = UserFactory(email="rosa@example.com")
    clerk = UserFactory(email="clerk@gamarriando.pe", is_staff=True)
    clerk.groups.add(staff_groups["Finance"])
    device = TOTPDevice.objects.create(user=clerk, name="phone", confirmed=True)
    order, payment = make_paid(
        customer, ProductFactory(name="Polo pima", price=Decimal("80.00"), stock=10)
    )
    make_paid(customer, ProductFactory(price=Decimal("20.00"), stock=10), token="tok_declined")

    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", clerk.email)
    page.fill("#id_password", "s3cret-Passw0rd!")
    # The code the clerk's authenticator app shows now, from the same key.
    page.fill("#id_otp_token", f"{totp(device.bin_key, step=device.step, t0=device.t0):06d}")
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")
    page.goto(f"{live_server.url}/admin/payments/payment/{payment.pk}/change/")
    page.click("#refund-button")
    assert page.inner_text("#refundable-amount") == "80.00 PEN"
    page.fill("#id_amount", "25.00")
    page.fill("#id_reason", "one polo returned")
    page.click("#continue-button")
    DOCS.mkdir(exist_ok=True)
    page.screenshot(path=str(DOCS / "refund-screen.png"), full_page=True)
    page.click("#confirm-button")

    assert "Refund of 25.00 PEN: succeeded." in page.inner_text(".messagelist")
    ledger = page.inner_text("#transactions-group")
    assert "refund" in ledger and "25.00" in ledger and "one polo returned" in ledger
    page.click("#refund-button")
    assert page.inner_text("#refundable-amount") == "55.00 PEN"
    refund = Transaction.objects.get(transaction_type="refund")
    assert (refund.amount, refund.status, refund.created_by_id) == (
        Decimal("25.00"),
        "succeeded",
        clerk.pk,
    )

    page.goto(f"{live_server.url}/admin/orders/order/{order.pk}/change/")
    page.locator("#order-timeline").scroll_into_view_if_needed()
    assert "refund 25.00 PEN: succeeded" in page.inner_text("#order-timeline")
    page.screenshot(path=str(DOCS / "order-timeline.png"), full_page=True)
    # Sales in two more currencies, so the dashboard shows one block per currency.
    for price, currency, count in (("15.00", "USD", 2), ("4800", "JPY", 1)):
        product = ProductFactory(price=Decimal(price), currency=currency, stock=10)
        for _ in range(count):
            order = make_order(customer, product, currency=currency)
            pay = make_payment(customer, order)
            payment_process(payment_id=pay.pk, actor=customer, payment_method_id="tok_success")
    page.goto(f"{live_server.url}/admin/payments/payment/dashboard/?days=7")
    assert "Success rate" in page.inner_text("#dashboard-figures")
    assert page.inner_text("#currency-PEN .amount") == "100.00 PEN"
    assert page.inner_text("#currency-PEN .refund-rate") == "31.2 %"  # 25.00 of 80.00 captured
    assert page.inner_text("#currency-USD .amount") == "30.00 USD"
    assert page.inner_text("#currency-JPY .amount") == "4800 JPY"
    page.screenshot(path=str(DOCS / "dashboard.png"), full_page=True)
    assert os.path.getsize(DOCS / "refund-screen.png") > 10_000

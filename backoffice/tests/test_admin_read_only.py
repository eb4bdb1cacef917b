"""The ledger admin is read-only and no admin edits a money field."""

from decimal import Decimal

import pytest

from tests.factories import UserFactory
from transactions.models import Transaction

pytestmark = pytest.mark.django_db(transaction=True)


def test_ledger_admin_is_read_only_even_for_superusers(browser_for, paid):
    _, payment = paid
    root = UserFactory(email="root@example.com", is_staff=True, is_superuser=True)
    client = browser_for(root)
    row = Transaction.objects.get(payment=payment)
    assert client.get("/admin/transactions/transaction/add/").status_code == 403
    assert client.get(f"/admin/transactions/transaction/{row.pk}/delete/").status_code == 403
    page = client.get(f"/admin/transactions/transaction/{row.pk}/change/")
    assert page.status_code == 200
    assert 'name="amount"' not in page.content.decode()
    client.post(
        f"/admin/transactions/transaction/{row.pk}/change/", {"amount": "1.00", "status": "failed"}
    )
    row.refresh_from_db()
    assert (row.amount, row.status) == (Decimal("80.00"), "succeeded")


def test_money_fields_are_never_editable(browser_for, finance, paid):
    order, payment = paid
    client = browser_for(finance)
    for url in (
        f"/admin/orders/order/{order.pk}/change/",
        f"/admin/payments/payment/{payment.pk}/change/",
    ):
        html = client.get(url).content.decode()
        for field in (
            "amount",
            "total_amount",
            "amount_paid",
            "captured_amount",
            "refunded_amount",
        ):
            assert f'name="{field}"' not in html, (url, field)


def test_the_order_page_offers_no_save_button_where_nothing_can_be_saved(
    browser_for, finance, paid
):
    order, _ = paid
    html = browser_for(finance).get(f"/admin/orders/order/{order.pk}/change/").content.decode()
    assert 'name="_save"' not in html and 'name="_continue"' not in html
    assert "Cancel order" in html  # the page's own actions stay

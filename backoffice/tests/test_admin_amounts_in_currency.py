"""Every admin page shows money in its currency's decimals: yen has none, soles have two."""

import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission

from orders.tests.factories import ProductFactory
from payments.models import Dispute
from tests.factories import UserFactory
from tests.helpers import make_paid
from transactions.models import Transaction
from wallets.models import WalletEntry, WalletHold
from wallets.services import wallet_credit, wallet_hold_place

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def yen(customer):
    """A paid JPY order with a dispute, and a JPY wallet with credit and a hold."""
    product = ProductFactory(price=Decimal("4800"), currency="JPY", stock=5)
    order, payment = make_paid(customer, product)
    Dispute.objects.create(
        payment=payment,
        gateway="simulated",
        gateway_dispute_id="dp_yen",
        amount=Decimal("4800"),
        currency="JPY",
        status="needs_response",
    )
    entry = wallet_credit(user=customer, currency="JPY", amount=Decimal("4800"), reason="goodwill")
    hold = wallet_hold_place(
        user=customer, currency="JPY", amount=Decimal("4800"), idempotency_key="hold-yen"
    )
    return {
        "product": product,
        "order": order,
        "payment": payment,
        "transaction": Transaction.objects.get(payment=payment),
        "dispute": Dispute.objects.get(gateway_dispute_id="dp_yen"),
        "wallet": entry.wallet,
        "walletentry": entry,
        "wallethold": WalletHold.objects.get(pk=hold.pk),
    }


PAGES = [
    ("orders", "order", "order"),
    ("orders", "product", "product"),
    ("payments", "payment", "payment"),
    ("payments", "dispute", "dispute"),
    ("transactions", "transaction", "transaction"),
    ("wallets", "wallet", "wallet"),
    ("wallets", "walletentry", "walletentry"),
    ("wallets", "wallethold", "wallethold"),
]


def _text(response) -> str:
    assert response.status_code == 200
    return re.sub(r"<[^>]+>", " ", response.content.decode())


@pytest.mark.parametrize(("app", "model", "key"), PAGES)
def test_yen_is_shown_without_decimals_in_lists_and_pages(browser_for, yen, app, model, key):
    root = UserFactory(email="root@example.com", is_staff=True, is_superuser=True)
    client = browser_for(root)
    listing = _text(client.get(f"/admin/{app}/{model}/"))
    assert "4800" in listing and "4800.00" not in listing
    change = client.get(f"/admin/{app}/{model}/{yen[key].pk}/change/")
    if model == "product":
        # The price is the one editable amount here: its form input keeps the column's places.
        assert 'name="price"' in change.content.decode()
        return
    page = _text(change)
    assert "4800" in page and "4800.00" not in page, page


def test_the_order_page_shows_its_lines_payments_and_balance_in_yen(browser_for, finance, yen):
    html = browser_for(finance).get(f"/admin/orders/order/{yen['order'].pk}/change/")
    page = _text(html)
    # The line's unit and total price, the payment's amount and captured amount, the total,
    # amount paid and (a property) the balance due, which is 0.
    assert page.count("4800") >= 6 and "4800.00" not in page
    assert re.search(r"Balance due:?\s+0\s", page), page
    for field in ("amount", "total_amount", "amount_paid", "captured_amount", "unit_price"):
        assert f'name="{field}"' not in html.content.decode()


def test_the_wallet_page_and_its_entries_show_yen(browser_for, finance, yen):
    page = _text(browser_for(finance).get(f"/admin/wallets/wallet/{yen['wallet'].pk}/change/"))
    # Balance, held, the credit and the hold entries, the hold's amount; available is 0.
    assert page.count("4800") >= 5 and "4800.00" not in page
    assert re.search(r"Available:?\s+0\s", page), page


def test_soles_keep_two_decimals_and_the_amount_column_still_sorts(browser_for, finance, paid):
    _, small = paid  # 80.00 PEN
    _, large = make_paid(small.order.user, ProductFactory(price=Decimal("95.50"), stock=5))
    client = browser_for(finance)
    html = client.get("/admin/payments/payment/?o=5").content.decode()  # by amount, ascending
    assert "80.00" in _text(client.get("/admin/payments/payment/")) and "95.50" in html
    first, second = (html.index(f"/admin/payments/payment/{p.pk}/change/") for p in (small, large))
    assert first < second
    html = client.get("/admin/payments/payment/?o=-5").content.decode()  # descending
    first, second = (html.index(f"/admin/payments/payment/{p.pk}/change/") for p in (small, large))
    assert first > second
    assert "80.00" in _text(client.get(f"/admin/payments/payment/{small.pk}/change/"))


def _staff_with(*codenames: str):
    user = UserFactory(email=f"{codenames[0]}@example.com", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return user


def test_pages_of_staff_who_may_only_add_or_only_view(browser_for, yen):
    client = browser_for(_staff_with("add_product", "view_product"))
    add = client.get("/admin/orders/product/add/")
    assert add.status_code == 200 and 'name="price"' in add.content.decode()  # an input
    client = browser_for(_staff_with("view_payment", "view_order"))
    for url in (
        f"/admin/payments/payment/{yen['payment'].pk}/change/",
        f"/admin/orders/order/{yen['order'].pk}/change/",
    ):
        page = client.get(url)
        html = page.content.decode()
        assert page.status_code == 200 and "4800" in html and "4800.00" not in html, url
        assert 'name="amount"' not in html and 'name="total_amount"' not in html


def test_a_mistyped_product_currency_is_shown_as_stored(browser_for, finance):
    ProductFactory(sku="typo-1", price=Decimal("12.50"), currency="usd")
    root = UserFactory(email="root@example.com", is_staff=True, is_superuser=True)
    listing = _text(browser_for(root).get("/admin/orders/product/"))
    assert "typo-1" in listing and "12.50" in listing


def test_names_of_rows_carry_their_currency_decimals(yen):
    assert str(yen["payment"]) == f"Payment {yen['payment'].pk} 4800 JPY (completed)"
    assert str(yen["transaction"]) == "charge 4800 JPY (succeeded)"
    assert str(yen["dispute"]) == "Dispute dp_yen 4800 JPY (needs_response)"
    wallet = yen["wallet"]
    wallet.refresh_from_db()
    assert str(wallet) == f"Wallet {wallet.pk} 4800 JPY (held 4800)"
    assert WalletEntry.objects.filter(wallet=wallet).count() == 2


def test_amount_buckets_are_offered_per_currency_and_never_mix_them(browser_for, yen, paid):
    _, soles = paid  # 80.00 PEN
    client = browser_for(UserFactory(email="root@example.com", is_staff=True, is_superuser=True))
    link = "/admin/payments/payment/{}/change/"

    def listed(query: str) -> set[int]:
        html = client.get(f"/admin/payments/payment/?{query}").content.decode()
        return {pk for pk in (yen["payment"].pk, soles.pk) if link.format(pk) in html}

    unfiltered = client.get("/admin/payments/payment/").content.decode()
    assert "By amount" not in unfiltered  # no buckets without a currency
    assert listed("amount_range=gte1000") == {yen["payment"].pk, soles.pk}  # ignored
    yen_page = client.get("/admin/payments/payment/?currency__exact=JPY").content.decode()
    assert "&lt; 5000 JPY" in yen_page and "≥ 100000 JPY" in yen_page
    assert listed("currency__exact=JPY&amount_range=lt50") == {yen["payment"].pk}
    assert listed("currency__exact=JPY&amount_range=gte1000") == set()
    assert listed("currency__exact=PEN&amount_range=50-200") == {soles.pk}

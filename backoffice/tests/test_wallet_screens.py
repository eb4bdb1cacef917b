"""Store credit in the back office: refund to the wallet, adjust credit, see it on the timeline."""

from decimal import Decimal

import pytest

from backoffice.tests.helpers import form_nonce, operation_url, submit
from gamarriando.errors import PermissionDeniedError, ValidationFailed
from transactions.models import Transaction
from wallets.models import Wallet, WalletEntry
from wallets.services import wallet_grant
from wallets.tests.factories import funded_wallet

pytestmark = pytest.mark.django_db(transaction=True)


def test_refund_screen_sends_the_money_to_store_credit(browser_for, finance, paid):
    order, payment = paid
    client = browser_for(finance)
    response, _ = submit(
        client,
        operation_url(payment, "refund"),
        amount="80.00",
        reason="customer prefers credit",
        destination="wallet",
    )
    assert response.status_code == 302
    payment.refresh_from_db()
    assert (payment.status, payment.refunded_amount) == ("refunded", Decimal("80.00"))
    refund = Transaction.objects.get(transaction_type="refund")
    assert (refund.status, refund.gateway_response["destination"]) == ("succeeded", "wallet")
    wallet = Wallet.objects.get(user=order.user)
    assert (wallet.balance, wallet.held) == (Decimal("80.00"), Decimal("0.00"))
    follow = client.get(response["Location"])
    assert "Refund of 80.00 PEN to store credit: succeeded." in follow.content.decode()
    # Finance sees the entry on the wallet's page and on the order's timeline.
    page = client.get(f"/admin/wallets/wallet/{wallet.pk}/change/").content.decode()
    assert "customer prefers credit" in page
    order_page = client.get(f"/admin/orders/order/{order.pk}/change/").content.decode()
    timeline = order_page[order_page.index('id="order-timeline"') :]
    assert "credit 80.00 PEN: balance 80.00, held 0.00" in timeline


def test_finance_grants_and_removes_credit_with_a_reason(browser_for, finance, customer):
    wallet = funded_wallet(customer, "10.00")
    client = browser_for(finance)
    url = f"/admin/wallets/wallet/{wallet.pk}/adjust/"
    page = client.get(url)
    assert page.status_code == 200
    nonce = str(page.context["form"].initial["nonce"])
    grant = {"nonce": nonce, "direction": "grant", "amount": "15.00", "reason": "goodwill"}
    asked = client.post(url, grant)
    # Money moves only once the clerk has read what will happen and confirmed it.
    assert asked.status_code == 200 and asked.context["confirming"]
    assert "grant <strong>15.00 PEN</strong> of store credit to" in asked.content.decode()
    assert Wallet.objects.get(pk=wallet.pk).balance == Decimal("10.00")
    granted = client.post(url, {**grant, "confirm": "True"})
    assert granted.status_code == 302
    again = client.post(url, {**grant, "confirm": "True"}, follow=True)
    assert "already submitted" in again.content.decode()
    nonce = form_nonce(client, url)
    remove = {"nonce": nonce, "direction": "remove", "reason": "typo", "confirm": "True"}
    asked = client.post(url, {**remove, "amount": "5.00", "confirm": ""})
    assert "remove <strong>5.00 PEN</strong> of store credit from" in asked.content.decode()
    too_much = client.post(url, {**remove, "amount": "30.00"})
    assert too_much.status_code == 200
    assert "not hold enough" in too_much.content.decode()
    assert not too_much.context["confirming"]  # back to the form, to correct the amount
    removed = client.post(url, {**remove, "amount": "5.00"})
    assert removed.status_code == 302
    wallet.refresh_from_db()
    assert wallet.balance == Decimal("20.00")
    adjustments = WalletEntry.objects.filter(actor=finance).order_by("version")
    assert list(adjustments.values_list("entry_type", "amount", "reason")) == [
        ("credit", Decimal("15.00"), "adjustment: goodwill"),
        ("debit", Decimal("5.00"), "adjustment: typo"),
    ]


def test_support_may_see_wallets_but_not_adjust(browser_for, support, customer):
    wallet = funded_wallet(customer, "10.00")
    client = browser_for(support)
    assert client.get(f"/admin/wallets/wallet/{wallet.pk}/change/").status_code == 200
    assert client.get(f"/admin/wallets/wallet/{wallet.pk}/adjust/").status_code == 403
    assert (
        client.post(
            f"/admin/wallets/wallet/{wallet.pk}/adjust/",
            {"direction": "grant", "amount": "5", "reason": "x"},
        ).status_code
        == 403
    )
    wallet.refresh_from_db()
    assert wallet.balance == Decimal("10.00")


def test_finance_grants_credit_to_a_customer_who_has_no_wallet_yet(
    browser_for, finance, customer, support
):
    client = browser_for(finance)
    listed = client.get("/admin/wallets/wallet/").content.decode()
    assert 'id="grant-credit"' in listed
    url = "/admin/wallets/wallet/grant/"
    nonce = form_nonce(client, url)
    body = {"nonce": nonce, "currency": "USD", "amount": "12.50", "reason": "late delivery"}
    unknown = client.post(url, {**body, "email": "nobody@example.com"})
    assert "No active account has this e-mail." in unknown.content.decode()
    asked = client.post(url, {**body, "email": customer.email.upper()})
    assert asked.context["confirming"]
    assert not Wallet.objects.exists()  # nothing is made before the confirmation
    done = client.post(url, {**body, "email": customer.email.upper(), "confirm": "True"})
    wallet = Wallet.objects.get(user=customer, currency="USD")
    assert done["Location"] == f"/admin/wallets/wallet/{wallet.pk}/change/"
    assert (wallet.balance, wallet.version) == (Decimal("12.50"), 1)  # made with its credit
    entry = WalletEntry.objects.get(wallet=wallet)
    assert (entry.entry_type, entry.reason, entry.actor) == (
        "credit",
        "adjustment: late delivery",
        finance,
    )
    again = client.post(url, {**body, "email": customer.email, "confirm": "True"}, follow=True)
    assert "already submitted" in again.content.decode()
    assert Wallet.objects.get(pk=wallet.pk).balance == Decimal("12.50")
    # Support neither sees the way in nor the button on a wallet.
    support_client = browser_for(support)
    assert 'id="grant-credit"' not in support_client.get("/admin/wallets/wallet/").content.decode()
    assert support_client.get(url).status_code == 403
    page = support_client.get(f"/admin/wallets/wallet/{wallet.pk}/change/").content.decode()
    assert 'id="adjust-wallet"' not in page


@pytest.mark.parametrize("whom", ["themselves", "another staff account"])
def test_nobody_grants_credit_to_themselves_or_to_staff(browser_for, finance, support, whom):
    owner = finance if whom == "themselves" else support
    refused = PermissionDeniedError if whom == "themselves" else ValidationFailed
    with pytest.raises(refused):
        wallet_grant(
            user=owner, currency="PEN", amount=Decimal("5"), reason="thanks", actor=finance
        )
    assert not Wallet.objects.exists()


@pytest.mark.parametrize(
    "email, currency, amount, said",
    [
        ("customer", "JPY", "100.50", "JPY amounts allow at most 0 decimals."),
        ("customer", "JPY", "0", "Enter at least 1 JPY."),
        ("customer", "PEN", "0.001", "Ensure that there are no more than 2 decimal places."),
        ("support", "PEN", "5.00", "Store credit is for customer accounts, not staff ones."),
        ("finance", "PEN", "5.00", "Nobody may change their own store credit."),
    ],
)
def test_grant_refuses_on_the_first_step_what_the_service_would_refuse(
    browser_for, finance, customer, support, email, currency, amount, said
):
    """The clerk is not asked to confirm a grant that would then be refused."""
    owner = {"customer": customer, "support": support, "finance": finance}[email]
    client = browser_for(finance)
    url = "/admin/wallets/wallet/grant/"
    body = {"email": owner.email, "currency": currency, "amount": amount, "reason": "sorry"}
    first = client.post(url, {"nonce": form_nonce(client, url), **body})
    assert first.status_code == 200 and not first.context["confirming"]
    assert said in first.content.decode()
    assert not Wallet.objects.exists()

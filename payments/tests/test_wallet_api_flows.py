"""Store credit through the HTTP API and /metrics."""

from decimal import Decimal

import pytest

from gamarriando.errors import WalletBusy, api_exception_handler
from orders.tests.factories import ProductFactory
from tests.helpers import make_order
from transactions.models import Transaction
from wallets.models import Wallet
from wallets.tests.factories import funded_wallet

pytestmark = pytest.mark.django_db(transaction=True)


def create_payment(client, order, method, amount):
    response = client.post(
        "/api/v1/payments",
        {"order_id": order.pk, "payment_method": method, "amount": amount},
        format="json",
    )
    assert response.status_code == 201, response.json()
    return response.json()["id"]


def test_split_payment_through_the_api_then_refund_to_store_credit(api, customer, finance):
    funded_wallet(customer, "50.00")
    order = make_order(customer, ProductFactory(price=Decimal("100.00"), stock=5))
    client = api(customer)
    methods = [m["name"] for m in client.get("/api/v1/payment-methods").json()]
    assert "wallet" in methods

    wallet_payment = create_payment(client, order, "wallet", "30.00")
    processed = client.post(f"/api/v1/payments/{wallet_payment}/process", {}, format="json")
    assert processed.status_code == 202
    assert processed.json()["status"] == "completed"
    card = create_payment(client, order, "simulated", "70.00")
    paid = client.post(
        f"/api/v1/payments/{card}/process", {"payment_method_id": "tok_success"}, format="json"
    )
    assert paid.json()["status"] == "completed"
    assert client.get(f"/api/v1/orders/{order.pk}").json()["status"] == "paid"
    assert client.get("/api/v1/wallet").json() == [
        {"currency": "PEN", "balance": "20.00", "held": "0.00", "available": "20.00"}
    ]

    refused = client.post(
        f"/api/v1/payments/{card}/refund",
        {"reason": "to credit", "destination": "wallet"},
        format="json",
    )
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "PERMISSION_DENIED"
    bad = api(finance).post(
        f"/api/v1/payments/{card}/refund", {"reason": "x", "destination": "cash"}, format="json"
    )
    assert bad.status_code == 400 and "destination" in bad.json()["error"]["details"]

    refunded = api(finance).post(
        f"/api/v1/payments/{card}/refund",
        {"reason": "customer prefers credit", "destination": "wallet"},
        format="json",
    )
    assert refunded.status_code == 202
    body = refunded.json()
    assert body["transaction"]["status"] == "succeeded"
    assert body["payment"]["status"] == "refunded"
    assert client.get("/api/v1/wallet").json()[0]["balance"] == "90.00"
    entries = client.get("/api/v1/wallet/entries").json()["results"]
    assert [(e["entry_type"], e["amount"]) for e in entries] == [
        ("credit", "70.00"),
        ("debit", "30.00"),
        ("hold", "30.00"),
        ("credit", "50.00"),
    ]
    assert Transaction.objects.filter(status="pending").count() == 0


def test_metrics_show_wallet_holds_events_and_amounts(api, customer, settings):
    settings.METRICS_TOKEN = "metrics-token"
    funded_wallet(customer, "50.00")
    order = make_order(customer, ProductFactory(price=Decimal("10.00"), stock=5))
    client = api(customer)
    payment = create_payment(client, order, "wallet", "10.00")
    client.post(f"/api/v1/payments/{payment}/process", {}, format="json")
    body = api().get("/metrics", HTTP_AUTHORIZATION="Bearer metrics-token").content.decode()
    assert 'gamarriando_events_published_total{type="wallet.funds_reserved"}' in body
    assert 'gamarriando_payment_amount_total{currency="PEN",gateway="wallet"' in body
    assert "gamarriando_wallet_active_holds" in body
    assert "gamarriando_wallet_holds_expired_total" in body
    assert "gamarriando_wallet_version_conflicts_total" in body


def test_wallet_busy_is_the_contracts_409_with_retry_after():
    response = api_exception_handler(WalletBusy(), {})
    assert response.status_code == 409
    assert response.data["error"]["code"] == "WALLET_BUSY"
    assert response["Retry-After"] == "1"
    assert Wallet.objects.count() == 0

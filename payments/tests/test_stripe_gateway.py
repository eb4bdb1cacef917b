"""The storefront flow through Stripe: the real SDK and dj-stripe over HTTP against the fake."""

from decimal import Decimal

import pytest
from djstripe.models import Customer

from orders.tests.factories import ProductFactory
from payments.models import Payment
from payments.tasks import reconcile_pending
from tests.helpers import make_order, make_payment, post_process

pytestmark = pytest.mark.django_db(transaction=True)


def process(client, payment, method="pm_card_visa", **extra):
    return post_process(client, payment.pk, method, **extra)


def stripe_payment(customer, price="59.98", currency="PEN"):
    product = ProductFactory(price=Decimal(price), currency=currency, stock=10)
    order = make_order(customer, product, currency=currency)
    return order, make_payment(customer, order, method="stripe")


def test_card_payment_completes_with_one_payment_intent(api, customer, fake_stripe):
    order, payment = stripe_payment(customer)
    body = process(api(customer), payment).json()
    assert body["status"] == "completed", body
    assert body["gateway_transaction_id"].startswith("pi_")
    assert fake_stripe.count("payment_intents") == 1
    pi = fake_stripe.payment_intents[body["gateway_transaction_id"]]
    assert (pi["amount"], pi["currency"], pi["capture_method"]) == (5998, "pen", "automatic")
    assert pi["metadata"]["payment_id"] == str(payment.pk)
    assert pi["customer"] == Customer.objects.get(subscriber=customer).id
    order.refresh_from_db()
    assert order.status == "paid"


def test_zero_decimal_currency_goes_in_whole_units(api, customer, fake_stripe):
    _, payment = stripe_payment(customer, price="1500", currency="JPY")
    body = process(api(customer), payment).json()
    assert fake_stripe.payment_intents[body["gateway_transaction_id"]]["amount"] == 1500


@pytest.mark.parametrize(
    ("method", "failure_code"),
    [
        ("pm_card_visa_chargeDeclined", "card_declined"),
        ("pm_card_visa_chargeDeclinedInsufficientFunds", "insufficient_funds"),
    ],
)
def test_declines_map_to_the_contract(api, customer, fake_stripe, method, failure_code):
    _, payment = stripe_payment(customer)
    body = process(api(customer), payment, method).json()
    assert (body["status"], body["failure_code"]) == ("failed", failure_code)


def test_authentication_required_gives_next_action_with_client_secret(api, customer, fake_stripe):
    _, payment = stripe_payment(customer)
    body = process(api(customer), payment, "pm_card_threeDSecure2Required").json()
    assert body["status"] == "requires_action"
    assert body["next_action"]["client_secret"].startswith(body["gateway_transaction_id"])


def test_bad_token_is_payment_method_error(api, customer, fake_stripe):
    _, payment = stripe_payment(customer)
    response = process(api(customer), payment, "tok_success")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "PAYMENT_METHOD_ERROR"
    unknown = process(api(customer), payment, "pm_does_not_exist").json()
    assert (unknown["status"], unknown["failure_code"]) == ("failed", "resource_missing")


def test_manual_capture_partial_then_refunds(api, customer, finance, fake_stripe):
    _, payment = stripe_payment(customer, price="100.00")
    assert process(api(customer), payment, capture=False).json()["status"] == "authorized"
    captured = (
        api(finance)
        .post(f"/api/v1/payments/{payment.pk}/capture", {"amount": "70.00"}, format="json")
        .json()
    )
    assert (captured["status"], captured["captured_amount"]) == ("completed", "70.00")
    pi = fake_stripe.payment_intents[captured["gateway_transaction_id"]]
    assert pi["amount_received"] == 7000
    part = (
        api(finance)
        .post(
            f"/api/v1/payments/{payment.pk}/refund",
            {"amount": "20.00", "reason": "size"},
            format="json",
        )
        .json()
    )
    assert part["payment"]["status"] == "partially_refunded"
    rest = (
        api(finance)
        .post(f"/api/v1/payments/{payment.pk}/refund", {"reason": "returned"}, format="json")
        .json()
    )
    assert rest["payment"]["status"] == "refunded"
    assert fake_stripe.refunded_total(pi["id"]) == 7000
    assert {r["metadata"]["payment_id"] for r in fake_stripe.refunds.values()} == {str(payment.pk)}


def test_void_cancels_the_payment_intent(api, customer, fake_stripe):
    _, payment = stripe_payment(customer)
    process(api(customer), payment, capture=False)
    body = api(customer).delete(f"/api/v1/payments/{payment.pk}").json()
    assert body["status"] == "cancelled"
    assert fake_stripe.payment_intents[body["gateway_transaction_id"]]["status"] == "canceled"


def test_a_timeout_after_stripe_charged_is_resolved_by_reconciliation(api, customer, fake_stripe):
    _, payment = stripe_payment(customer)
    original = fake_stripe.handle

    drops = {"left": 4}  # the first call and its three retries all lose their answer

    def dropping(*args, **kwargs):
        answer = original(*args, **kwargs)
        if args[:2] == ("POST", "/v1/payment_intents") and drops["left"] > 0:
            drops["left"] -= 1
            fake_stripe.drop_next_response = True
        return answer

    fake_stripe.handle = dropping
    body = process(api(customer), payment).json()
    assert body["status"] == "processing"
    assert fake_stripe.count("payment_intents") == 1
    fake_stripe.drop_next_response = False
    fake_stripe.handle = original
    assert reconcile_pending() == 1
    payment.refresh_from_db()
    assert payment.status == "completed"
    assert fake_stripe.count("payment_intents") == 1


def test_stripe_is_offered_only_with_keys(api, customer, settings):
    names = [m["name"] for m in api(customer).get("/api/v1/payment-methods").json()]
    assert names == ["simulated", "stripe", "wallet"]
    settings.STRIPE_TEST_SECRET_KEY = ""
    assert [m["name"] for m in api(customer).get("/api/v1/payment-methods").json()] == [
        "simulated",
        "wallet",
    ]
    order = make_order(customer, ProductFactory())
    response = api(customer).post(
        "/api/v1/payments",
        {"order_id": order.pk, "payment_method": "stripe", "amount": "1"},
        format="json",
    )
    assert response.json()["error"]["code"] == "PAYMENT_METHOD_ERROR"
    assert not Payment.objects.exists()

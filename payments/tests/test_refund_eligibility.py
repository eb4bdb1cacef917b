"""Who may refund how much, and that a refunded order leaves fulfilment (security review, High 1)."""

from decimal import Decimal

import pytest

from orders.models import Order
from orders.tests.factories import ProductFactory
from payments.models import SimulatedGatewayOperation
from payments.services import payment_process
from tests.helpers import make_order, make_paid, make_payment
from transactions.models import Transaction

pytestmark = pytest.mark.django_db(transaction=True)


def refund(client, payment_id, **body):
    return client.post(f"/api/v1/payments/{payment_id}/refund", body, format="json")


def move(client, order, status):
    return client.patch(f"/api/v1/orders/{order.pk}", {"status": status}, format="json")


@pytest.fixture
def paid(customer):
    return make_paid(customer, ProductFactory(price=Decimal("50.00"), stock=10), quantity=2)


def test_an_owner_cannot_refund_part_and_leave_the_order_shippable(api, customer, finance, paid):
    order, payment = paid
    partial = refund(api(customer), payment.pk, amount="99.99", reason="changed my mind")
    assert partial.status_code == 409
    assert partial.json()["error"]["code"] == "REFUND_NOT_ELIGIBLE"
    assert partial.json()["error"]["details"] == {"refundable_amount": "100.00"}
    assert not Transaction.objects.filter(transaction_type="refund").exists()
    assert not SimulatedGatewayOperation.objects.filter(kind="refund").exists()


def test_an_owner_refunds_everything_and_the_order_leaves_fulfilment(api, customer, finance, paid):
    order, payment = paid
    whole = refund(api(customer), payment.pk, amount="100.00", reason="changed my mind")
    assert whole.status_code == 202, whole.json()
    order.refresh_from_db()
    assert (order.status, order.amount_refunded) == ("refunded", Decimal("100.00"))
    shipped = move(api(finance), order, "processing")
    assert shipped.status_code == 409
    assert shipped.json()["error"]["code"] == "INVALID_STATUS"


def test_an_owner_gets_the_same_codes_as_finance_for_too_much_and_for_refunded(api, customer, paid):
    order, payment = paid
    too_much = refund(api(customer), payment.pk, amount="100.01", reason="more please")
    assert too_much.status_code == 409
    assert too_much.json()["error"]["code"] == "REFUND_EXCEEDS_REFUNDABLE"
    assert too_much.json()["error"]["details"] == {"refundable_amount": "100.00"}
    assert refund(api(customer), payment.pk, reason="all of it").status_code == 202
    again = refund(api(customer), payment.pk, reason="once more")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "ALREADY_REFUNDED"
    assert Transaction.objects.filter(transaction_type="refund").count() == 1


def test_an_owner_may_not_refund_once_the_order_is_processing(api, customer, finance, paid):
    order, payment = paid
    assert move(api(finance), order, "processing").status_code == 200
    late = refund(api(customer), payment.pk, reason="too late")
    assert late.status_code == 409
    assert late.json()["error"]["code"] == "REFUND_NOT_ELIGIBLE"
    assert late.json()["error"]["details"] == {"order_status": "processing"}


def test_finance_still_refunds_part_at_any_time(api, customer, finance, paid):
    order, payment = paid
    assert move(api(finance), order, "processing").status_code == 200
    goodwill = refund(api(finance), payment.pk, amount="10.00", reason="goodwill")
    assert goodwill.status_code == 202
    assert goodwill.json()["payment"]["refundable_amount"] == "90.00"
    order.refresh_from_db()
    assert order.status == "processing"


def test_fulfilment_refuses_an_order_with_a_balance_due(api, customer, finance, paid):
    order, _ = paid
    # A paid order whose captured total fell short (a capture recorded below the total).
    Order.objects.filter(pk=order.pk).update(amount_paid=Decimal("99.00"))
    response = move(api(finance), order, "processing")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "INVALID_STATUS"
    order.refresh_from_db()
    assert order.status == "paid"


def test_stripe_webhooks_without_a_secret_answer_503_gateway_not_configured(client, settings):
    settings.STRIPE_WEBHOOK_SECRET = ""
    response = client.post("/webhooks/stripe", data="{}", content_type="application/json")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "GATEWAY_NOT_CONFIGURED"


def test_an_owner_cannot_refund_one_payment_of_a_split_order(api, customer, finance):
    # Refunding one of two payments would leave the order paid, and shippable, with half
    # its money gone back; cancelling the order refunds both.
    order = make_order(customer, ProductFactory(price=Decimal("19.90"), stock=10))
    first = make_payment(customer, order, amount="10.00")
    second = make_payment(customer, order, amount="9.90")
    for payment in (first, second):
        payment_process(payment_id=payment.pk, actor=customer, payment_method_id="tok_success")
    order.refresh_from_db()
    assert order.status == "paid"
    response = refund(api(customer), first.pk, reason="changed my mind")
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "REFUND_NOT_ELIGIBLE"
    assert error["details"] == {"other_payment_ids": [second.pk]}
    assert not Transaction.objects.filter(transaction_type="refund").exists()
    cancelled = api(customer).delete(f"/api/v1/orders/{order.pk}")
    assert cancelled.status_code == 200, cancelled.json()
    order.refresh_from_db()
    assert (order.status, order.amount_refunded) == ("cancelled", Decimal("19.90"))
    assert Transaction.objects.filter(transaction_type="refund", status="succeeded").count() == 2


def test_a_refund_in_full_before_fulfilment_gives_the_stock_back_once(api, customer, finance):
    product = ProductFactory(price=Decimal("50.00"), stock=10)
    order, payment = make_paid(customer, product, quantity=2)
    product.refresh_from_db()
    assert product.stock == 8
    assert refund(api(customer), payment.pk, reason="changed my mind").status_code == 202
    order.refresh_from_db()
    product.refresh_from_db()
    assert (order.status, product.stock) == ("refunded", 10)
    # Refunded after it shipped: the goods left, the stock stays as it is.
    shipped_order, shipped = make_paid(customer, product, quantity=3)
    for status in ("processing", "shipped"):
        assert move(api(finance), shipped_order, status).status_code == 200
    assert refund(api(finance), shipped.pk, reason="lost in transit").status_code == 202
    shipped_order.refresh_from_db()
    product.refresh_from_db()
    assert (shipped_order.status, product.stock) == ("refunded", 7)

"""Payment endpoints: create, read, update, cancel, process, capture; every error path."""

from decimal import Decimal

import pytest

from orders.models import Order
from orders.tests.factories import ProductFactory
from payments.models import Payment, SimulatedGatewayOperation
from payments.tasks import reconcile_pending
from tests.helpers import make_order, make_paid, make_payment, post_process
from transactions.models import Transaction

pytestmark = pytest.mark.django_db(transaction=True)


def process(client, payment_id, token="tok_success", **extra):
    return post_process(client, payment_id, token, **extra)


def charges():
    return SimulatedGatewayOperation.objects.filter(kind__in=["charge", "authorization"]).count()


def test_create_then_process_completes_and_pays_the_order(api, customer, product):
    order = make_order(customer, product, quantity=2)
    client = api(customer)
    created = client.post(
        "/api/v1/payments",
        {"order_id": order.pk, "payment_method": "simulated", "amount": "100.00"},
        format="json",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["status"] == "pending"
    assert body["currency"] == "PEN"
    assert body["refundable_amount"] == "0.00"
    response = process(client, body["id"])
    assert response.status_code == 202
    assert response.json()["status"] == "completed"
    assert response.json()["captured_amount"] == "100.00"
    assert response.json()["gateway_transaction_id"].startswith("sim_ch_")
    order.refresh_from_db()
    assert order.status == "paid"
    assert order.amount_paid == Decimal("100.00")
    rows = list(Transaction.objects.values_list("transaction_type", "status", "amount"))
    assert rows == [("charge", "succeeded", Decimal("100.00"))]
    assert charges() == 1
    order_body = client.get(f"/api/v1/orders/{order.pk}").json()
    assert order_body["balance_due"] == "0.00"
    assert order_body["payments"][0]["status"] == "completed"


def test_split_payments_settle_the_order_only_when_covered(api, customer, product):
    order = make_order(customer, product, quantity=2)
    client = api(customer)
    first = client.post(
        "/api/v1/payments",
        {"order_id": order.pk, "payment_method": "simulated", "amount": 60},
        format="json",
    ).json()
    second = client.post(
        "/api/v1/payments",
        {"order_id": order.pk, "payment_method": "simulated", "amount": "40"},
        format="json",
    ).json()
    third = client.post(
        "/api/v1/payments",
        {"order_id": order.pk, "payment_method": "simulated", "amount": "0.01"},
        format="json",
    )
    assert third.status_code == 400
    assert third.json()["error"]["code"] == "AMOUNT_MISMATCH"
    process(client, first["id"])
    order.refresh_from_db()
    assert (order.status, order.amount_paid) == ("pending", Decimal("60.00"))
    process(client, second["id"])
    order.refresh_from_db()
    assert (order.status, order.amount_paid) == ("paid", Decimal("100.00"))


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"payment_method": "simulated", "amount": "50.01"}, 400, "AMOUNT_MISMATCH"),
        (
            {"payment_method": "simulated", "amount": "10", "currency": "usd"},
            400,
            "AMOUNT_MISMATCH",
        ),
        ({"payment_method": "paypal", "amount": "10"}, 400, "PAYMENT_METHOD_ERROR"),
        ({"payment_method": "simulated", "amount": "10.001"}, 400, "VALIDATION_ERROR"),
        ({"payment_method": "simulated", "amount": "0"}, 400, "VALIDATION_ERROR"),
        ({"payment_method": "simulated", "amount": "-1"}, 400, "VALIDATION_ERROR"),
        ({"payment_method": "simulated", "amount": "Infinity"}, 400, "VALIDATION_ERROR"),
        ({"payment_method": "simulated", "amount": True}, 400, "VALIDATION_ERROR"),
        ({"payment_method": "simulated"}, 400, "VALIDATION_ERROR"),
    ],
)
def test_create_error_paths(api, customer, product, body, status, code):
    order = make_order(customer, product)
    response = api(customer).post("/api/v1/payments", {"order_id": order.pk, **body}, format="json")
    assert response.status_code == status, response.json()
    assert response.json()["error"]["code"] == code
    assert Payment.objects.count() == 0


def test_create_on_someone_elses_or_missing_order_is_a_field_error(
    api, customer, other_customer, product
):
    order = make_order(customer, product)
    for order_id in (order.pk, 987654):
        response = api(other_customer).post(
            "/api/v1/payments",
            {"order_id": order_id, "payment_method": "simulated", "amount": "1"},
            format="json",
        )
        assert response.status_code == 400
        assert list(response.json()["error"]["details"]) == ["order_id"]


def test_create_on_a_non_pending_order_is_invalid_status(api, customer, product):
    order, _ = make_paid(customer, product)
    response = api(customer).post(
        "/api/v1/payments",
        {"order_id": order.pk, "payment_method": "simulated", "amount": "1"},
        format="json",
    )
    assert response.status_code == 409
    assert response.json()["error"] == {
        **response.json()["error"],
        "code": "INVALID_STATUS",
        "details": {"status": "paid"},
    }


def test_jpy_amounts_have_no_decimals(api, customer):
    product = ProductFactory(price=Decimal("1500"), currency="JPY", stock=5)
    order = make_order(customer, product, currency="JPY")
    client = api(customer)
    bad = client.post(
        "/api/v1/payments",
        {"order_id": order.pk, "payment_method": "simulated", "amount": "1500.50"},
        format="json",
    )
    assert bad.status_code == 400
    good = client.post(
        "/api/v1/payments",
        {"order_id": order.pk, "payment_method": "simulated", "amount": "1500"},
        format="json",
    )
    assert good.status_code == 201
    assert good.json()["amount"] == "1500"


@pytest.mark.parametrize(
    ("token", "status", "failure_code"),
    [
        ("tok_declined", "failed", "card_declined"),
        ("tok_insufficient_funds", "failed", "insufficient_funds"),
    ],
)
def test_declines_end_failed_with_a_code(api, customer, product, token, status, failure_code):
    order = make_order(customer, product)
    payment = make_payment(customer, order)
    body = process(api(customer), payment.pk, token).json()
    assert (body["status"], body["failure_code"]) == (status, failure_code)
    assert body["failure_message"]
    assert Transaction.objects.get().status == "failed"
    order.refresh_from_db()
    assert order.status == "pending"


def test_a_failed_payment_can_be_retried_as_a_new_attempt(api, customer, product):
    order = make_order(customer, product)
    payment = make_payment(customer, order)
    client = api(customer)
    process(client, payment.pk, "tok_declined")
    body = process(client, payment.pk, "tok_success").json()
    assert body["status"] == "completed"
    assert body["failure_code"] == ""
    payment.refresh_from_db()
    assert payment.attempts == 2
    keys = sorted(Transaction.objects.values_list("idempotency_key", flat=True))
    assert keys == [f"payment-{payment.pk}-attempt-1", f"payment-{payment.pk}-attempt-2"]


def test_requires_action_returns_next_action(api, customer, product):
    payment = make_payment(customer, make_order(customer, product))
    body = process(api(customer), payment.pk, "tok_requires_action").json()
    assert body["status"] == "requires_action"
    assert body["next_action"]["type"] == "redirect_to_url"
    assert Transaction.objects.get().status == "pending"


def test_gateway_error_is_retried_then_fails_with_gateway_error(api, customer, product):
    payment = make_payment(customer, make_order(customer, product))
    body = process(api(customer), payment.pk, "tok_gateway_error").json()
    assert (body["status"], body["failure_code"]) == ("failed", "gateway_error")
    assert charges() == 0


def test_timeout_stays_processing_until_reconciliation_finds_the_charge(api, customer, product):
    order = make_order(customer, product)
    payment = make_payment(customer, order)
    body = process(api(customer), payment.pk, "tok_timeout").json()
    assert body["status"] == "processing"
    assert reconcile_pending() == 1
    payment.refresh_from_db()
    order.refresh_from_db()
    assert payment.status == "completed"
    assert order.status == "paid"
    assert charges() == 1
    assert reconcile_pending() == 0


def test_unknown_token_is_payment_method_error_and_changes_nothing(api, customer, product):
    payment = make_payment(customer, make_order(customer, product))
    response = process(api(customer), payment.pk, "4111-not-a-token")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "PAYMENT_METHOD_ERROR"
    payment.refresh_from_db()
    assert (payment.status, payment.attempts) == ("pending", 0)


def test_process_from_completed_is_invalid_status(api, customer, product):
    _, payment = make_paid(customer, product)
    response = process(api(customer), payment.pk)
    assert response.status_code == 409
    assert response.json()["error"]["details"] == {"status": "completed"}
    assert charges() == 1


def test_process_is_owner_only(api, customer, other_customer, finance, product):
    payment = make_payment(customer, make_order(customer, product))
    assert process(api(other_customer), payment.pk).status_code == 404
    assert process(api(finance), payment.pk).status_code == 403
    assert charges() == 0


def test_authorize_then_partial_capture_releases_the_rest(api, customer, finance, support, product):
    order = make_order(customer, product, quantity=2)
    payment = make_payment(customer, order)
    body = process(api(customer), payment.pk, capture=False).json()
    assert body["status"] == "authorized"
    assert body["captured_amount"] == "0.00"
    for user, code in ((customer, 403), (support, 403)):
        assert (
            api(user).post(f"/api/v1/payments/{payment.pk}/capture", {}, format="json").status_code
            == code
        )
    too_much = api(finance).post(
        f"/api/v1/payments/{payment.pk}/capture", {"amount": "100.01"}, format="json"
    )
    assert too_much.status_code == 400
    captured = api(finance).post(
        f"/api/v1/payments/{payment.pk}/capture", {"amount": "60.00"}, format="json"
    )
    assert captured.status_code == 202
    assert (captured.json()["status"], captured.json()["captured_amount"]) == ("completed", "60.00")
    again = api(finance).post(f"/api/v1/payments/{payment.pk}/capture", {}, format="json")
    assert again.status_code == 409
    order.refresh_from_db()
    assert (order.status, order.amount_paid) == ("pending", Decimal("60.00"))


def test_delete_voids_authorized_and_cancels_pending(api, customer, finance, product):
    order = make_order(customer, product, quantity=2)
    pending = make_payment(customer, order, amount="50")
    authorized = make_payment(customer, order, amount="50")
    process(api(customer), authorized.pk, capture=False)
    assert api(customer).delete(f"/api/v1/payments/{pending.pk}").json()["status"] == "cancelled"
    voided = api(customer).delete(f"/api/v1/payments/{authorized.pk}/")
    assert voided.status_code == 200
    assert voided.json()["status"] == "cancelled"
    assert (
        Transaction.objects.filter(
            payment=authorized, transaction_type="void", status="succeeded"
        ).count()
        == 1
    )
    assert api(customer).delete(f"/api/v1/payments/{authorized.pk}").status_code == 409
    assert Payment.objects.count() == 2


def test_update_only_while_pending(api, customer, product):
    order = make_order(customer, product, quantity=2)
    payment = make_payment(customer, order, amount="50")
    client = api(customer)
    response = client.patch(f"/api/v1/payments/{payment.pk}", {"amount": "100"}, format="json")
    assert response.status_code == 200
    assert response.json()["amount"] == "100.00"
    assert (
        client.patch(f"/api/v1/payments/{payment.pk}", {"amount": "100.01"}, format="json").json()[
            "error"
        ]["code"]
        == "AMOUNT_MISMATCH"
    )
    assert (
        client.patch(
            f"/api/v1/payments/{payment.pk}", {"payment_method": "nope"}, format="json"
        ).status_code
        == 400
    )
    process(client, payment.pk)
    late = client.put(f"/api/v1/payments/{payment.pk}", {"amount": "10"}, format="json")
    assert late.status_code == 409


def test_list_filters_and_visibility(api, customer, other_customer, support, product):
    _, paid = make_paid(customer, product)
    other = make_payment(other_customer, make_order(other_customer, product))
    client = api(customer)
    assert [p["id"] for p in client.get("/api/v1/payments").json()["results"]] == [paid.pk]
    assert client.get(f"/api/v1/payments/{other.pk}").status_code == 404
    assert client.get("/api/v1/payments?status=pending").json()["results"] == []
    assert len(api(support).get("/api/v1/payments?status=pending").json()["results"]) == 1
    assert (
        len(
            api(support)
            .get(f"/api/v1/payments?order_id={paid.order_id}&min_amount=50&max_amount=50")
            .json()["results"]
        )
        == 1
    )
    assert api(support).get("/api/v1/payments?payment_method=bitcoin").status_code == 400


def test_payment_methods_lists_enabled_gateways(api, customer):
    response = api(customer).get("/api/v1/payment-methods")
    assert response.status_code == 200
    assert response.json()[0]["name"] == "simulated"
    assert set(response.json()[0]) == {
        "name",
        "supports_authorize",
        "supports_refund",
        "currencies",
    }


def test_cancelling_a_paid_order_refunds_every_payment(api, customer, product):
    order, payment = make_paid(customer, product)
    response = api(customer).delete(f"/api/v1/orders/{order.pk}")
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    payment.refresh_from_db()
    order.refresh_from_db()
    assert (payment.status, payment.refunded_amount) == ("refunded", Decimal("50.00"))
    assert order.status == "cancelled"
    assert SimulatedGatewayOperation.objects.filter(kind="refund").count() == 1


def test_expiry_voids_authorized_payments_and_releases_stock(customer, product):
    from django.utils import timezone

    from orders.tasks import expire_unpaid_orders

    order, payment = make_paid(customer, product, quantity=3, capture=False)
    assert payment.status == "authorized"
    Order.objects.filter(pk=order.pk).update(expires_at=timezone.now())
    assert expire_unpaid_orders() == 1
    payment.refresh_from_db()
    order.refresh_from_db()
    product.refresh_from_db()
    assert (order.status, order.cancel_reason) == ("cancelled", "expired")
    assert payment.status == "cancelled"
    assert product.stock == 10
    assert expire_unpaid_orders() == 0


def test_a_charge_that_succeeds_after_the_order_was_cancelled_is_refunded(api, customer, product):
    order = make_order(customer, product)
    payment = make_payment(customer, order)
    process(api(customer), payment.pk, "tok_timeout")
    api(customer).delete(f"/api/v1/orders/{order.pk}")
    reconcile_pending()
    payment.refresh_from_db()
    order.refresh_from_db()
    assert order.status == "cancelled"
    assert (payment.status, payment.captured_amount, payment.refunded_amount) == (
        "refunded",
        Decimal("50.00"),
        Decimal("50.00"),
    )


def test_pending_rows_are_asked_again_on_the_janitor_schedule(customer, product):
    from datetime import timedelta

    from django.utils import timezone

    payment = make_payment(customer, make_order(customer, product))
    from payments.services import payment_process

    payment_process(payment_id=payment.pk, actor=customer, payment_method_id="tok_requires_action")
    row = Transaction.objects.get()
    gaps = []
    for _ in range(5):
        Transaction.objects.filter(pk=row.pk).update(
            next_reconcile_at=timezone.now() - timedelta(seconds=1)
        )
        before = timezone.now()
        reconcile_pending()
        row.refresh_from_db()
        gaps.append(round((row.next_reconcile_at - before).total_seconds() / 60))
    assert gaps == [1, 5, 60, 1440, 1440]
    assert row.status == "pending"  # the customer never authenticated; nothing was guessed


def test_simulated_decline_rate_and_latency_are_configurable(api, customer, product, settings):
    import time

    settings.SIMULATED_GATEWAY_DECLINE_RATE = 1.0
    settings.SIMULATED_GATEWAY_LATENCY_MS = 150
    payment = make_payment(customer, make_order(customer, product))
    started = time.perf_counter()
    body = process(api(customer), payment.pk).json()
    assert time.perf_counter() - started >= 0.15
    assert (body["status"], body["failure_code"]) == ("failed", "card_declined")

"""POST /payments: amounts, split payments, currencies and every error path."""

import json
from decimal import Decimal

import pytest

from gamarriando.idempotency import IdempotencyKey
from orders.tests.factories import ProductFactory
from payments.models import Payment
from payments.tests.helpers import charges, process
from tests.helpers import make_order, make_paid
from transactions.models import Transaction

pytestmark = pytest.mark.django_db(transaction=True)


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
        # Letters that upper-case to an ISO code are not one: long s, dotless i, full width.
        *[
            (
                {"payment_method": "simulated", "amount": "10", "currency": code},
                400,
                "VALIDATION_ERROR",
            )
            for code in ("uſd", "pın", "ＰＥＮ", "US1")
        ],
        ({"payment_method": "simulated", "amount": "10.001"}, 400, "VALIDATION_ERROR"),
        ({"payment_method": "simulated", "amount": "0"}, 400, "VALIDATION_ERROR"),
        ({"payment_method": "simulated", "amount": "-1"}, 400, "VALIDATION_ERROR"),
        ({"payment_method": "simulated", "amount": "Infinity"}, 400, "VALIDATION_ERROR"),
        ({"payment_method": "simulated", "amount": True}, 400, "VALIDATION_ERROR"),
        # Decimal() reads these; the contract's amount is plain ASCII digits and a fraction.
        *[
            ({"payment_method": "simulated", "amount": text}, 400, "VALIDATION_ERROR")
            for text in (
                *("1_0.00", "\u0661\u0660", "+10", "10.", ".5", "1e1", "0x10"),
                *(" 10", "10\n", "\t10", "10\u00a0", "10.00 "),  # no space, ASCII or not
            )
        ],
        ({"payment_method": "simulated"}, 400, "VALIDATION_ERROR"),
    ],
)
def test_create_error_paths(api, customer, product, body, status, code):
    order = make_order(customer, product)
    response = api(customer).post("/api/v1/payments", {"order_id": order.pk, **body}, format="json")
    assert response.status_code == status, response.json()
    assert response.json()["error"]["code"] == code
    assert Payment.objects.count() == 0


@pytest.mark.parametrize(
    "metadata", [{"k": "a\x00b"}, {"a\x00": "v"}, {"k": "\ud800"}, {"\udc00": "v"}]
)
def test_metadata_text_postgresql_cannot_store_is_a_field_error(api, customer, product, metadata):
    order = make_order(customer, product)
    body = {"order_id": order.pk, "payment_method": "simulated", "amount": "1"}
    # json.dumps escapes both (ensure_ascii), as a storefront's JSON would carry them.
    raw = json.dumps({**body, "metadata": metadata})
    response = api(customer).post("/api/v1/payments", raw, content_type="application/json")
    assert response.status_code == 400, response.json()
    error = response.json()["error"]
    assert (error["code"], list(error["details"])) == ("VALIDATION_ERROR", ["metadata"])
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
    "metadata", [{}, {"cart": "c-1"}, {"zz_long_key": "1", "a": "2", "mm": "3"}]
)
def test_create_answers_what_a_read_of_the_payment_answers(api, customer, product, metadata):
    """The answer is rendered from the object in hand when that cannot differ from a read (no
    read back): the same bytes as GET /payments/{id}, with amounts given with fewer decimals
    and metadata whose keys the database orders its own way."""
    order = make_order(customer, product, quantity=2)
    client = api(customer)
    created = client.post(
        "/api/v1/payments",
        {
            "order_id": order.pk,
            "payment_method": "simulated",
            "amount": "99.5",
            "metadata": metadata,
        },
        format="json",
        HTTP_IDEMPOTENCY_KEY="create-answer-1",
    )
    assert created.status_code == 201, created.json()
    read = client.get(f"/api/v1/payments/{created.json()['id']}")
    assert created.content == read.content
    assert created.json()["amount"] == "99.50"
    assert created.json()["metadata"] == metadata


def test_a_refused_keyed_create_leaves_nothing_and_the_key_serves_the_corrected_request(
    api, customer, product
):
    """No savepoint inside the keyed request: a refusal must still roll back everything."""
    order = make_order(customer, product, quantity=2)
    client = api(customer)
    body = {"order_id": order.pk, "payment_method": "simulated", "amount": "999.00"}
    refused = client.post("/api/v1/payments", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "AMOUNT_MISMATCH"
    assert not Payment.objects.filter(order=order).exists()
    assert not IdempotencyKey.objects.filter(key="k-1").exists()

    corrected = client.post(
        "/api/v1/payments", {**body, "amount": "100.00"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    assert corrected.status_code == 201, corrected.json()
    paid = process(client, corrected.json()["id"])
    assert paid.status_code == 202 and paid.json()["status"] == "completed"
    again = client.post(
        f"/api/v1/payments/{corrected.json()['id']}/process",
        {"payment_method_id": "tok_success"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-2",
    )
    assert again.status_code == 409 and again.json()["error"]["code"] == "INVALID_STATUS"
    assert not IdempotencyKey.objects.filter(key="k-2").exists()
    assert Transaction.objects.filter(payment_id=corrected.json()["id"]).count() == 1


@pytest.mark.parametrize(
    ("currency", "text", "stored"), [("PEN", "50.000", "50.00"), ("JPY", "900.0", "900")]
)
def test_trailing_zeros_are_not_decimals(api, customer, currency, text, stored):
    product = ProductFactory(price=Decimal(stored), currency=currency, stock=5)
    order = make_order(customer, product, currency=currency)
    response = api(customer).post(
        "/api/v1/payments",
        {"order_id": order.pk, "payment_method": "simulated", "amount": text},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["amount"] == stored

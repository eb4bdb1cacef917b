"""SQL statement budgets of the hot paths (issue 9): a regression here fails CI, not a benchmark.

Counted as the bench counts them: every statement Django sends, the JWT user lookup and the
transaction's BEGIN and COMMIT included (inside the test's own transaction they are sent as
SAVEPOINT and RELEASE, one statement each all the same).
"""

import uuid
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orders.tests.factories import OrderFactory, ProductFactory
from payments.tests.factories import PaymentFactory
from tests.helpers import make_order, make_payment
from transactions.tests.factories import TransactionFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

ORDER_CREATE_BUDGET = 9  # issue 9 asks for 12 at most, including BEGIN and COMMIT
PAYMENT_CREATE_BUDGET = 8
PROCESS_BUDGET = 15  # inline mode: the answer is read again after the charge ran


def statements(call):
    """Return the response of call() and the SQL it sent."""
    with CaptureQueriesContext(connection) as context:
        response = call()
    return response, [query["sql"] for query in context.captured_queries]


def post(client, path, body):
    return client.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))


def test_order_create_stays_within_budget_and_takes_the_stock_last(api, customer, address):
    product = ProductFactory(stock=5)  # two orders of two
    client = api(customer)
    body = {"items": [{"product_id": product.pk, "quantity": 2}], "shipping_address": address}
    # A process's first enqueue imports the task modules (dj-stripe's checks run once then).
    assert post(client, "/api/v1/orders", body).status_code == 201
    response, sql = statements(lambda: post(client, "/api/v1/orders", body))
    assert response.status_code == 201, response.json()
    assert len(sql) <= ORDER_CREATE_BUDGET, "\n".join(sql)
    # The product's row lock lives from the stock UPDATE to COMMIT: only the stored answer between.
    stock_update = next(i for i, q in enumerate(sql) if q.startswith('UPDATE "orders_product"'))
    assert "stock" in sql[stock_update] and ">=" in sql[stock_update]
    assert not any("FOR UPDATE" in q and "orders_product" in q for q in sql)
    assert len(sql) - stock_update <= 3, "\n".join(sql[stock_update:])
    # The buyer's row is locked (the pending-orders count depends on it), drawing the order's id.
    assert any(q.startswith("SELECT nextval") and "FOR UPDATE" in q for q in sql), sql
    # The order, its line, its history row and its event: one statement (insert_sql).
    inserts = [q for q in sql if "INSERT INTO" in q and "idempotencykey" not in q]
    assert len(inserts) == 1 and inserts[0].count("INSERT INTO") == 4, "\n".join(inserts)
    # Rendered from the objects in hand: the order is not read back.
    assert not any(q.startswith("SELECT") and 'FROM "orders_orderitem"' in q for q in sql)
    product.refresh_from_db()
    assert product.stock == 1
    assert response.json()["items"][0]["quantity"] == 2
    assert response.json()["payments"] == []


def test_order_create_with_many_lines_adds_one_statement_per_product(api, customer, address):
    products = [ProductFactory(sku=f"LINE-{index}") for index in range(3)]
    client = api(customer)
    body = {
        "items": [{"product_id": p.pk, "quantity": 1} for p in products],
        "shipping_address": address,
    }
    response, sql = statements(lambda: post(client, "/api/v1/orders", body))
    assert response.status_code == 201, response.json()
    assert len(sql) <= ORDER_CREATE_BUDGET + 2, "\n".join(sql)


def test_payment_create_and_process_stay_within_budget(api, customer, product):
    order = make_order(customer, product)
    client = api(customer)
    body = {"order_id": order.pk, "payment_method": "simulated", "amount": str(order.total_amount)}
    response, sql = statements(lambda: post(client, "/api/v1/payments", body))
    assert response.status_code == 201, response.json()
    assert len(sql) <= PAYMENT_CREATE_BUDGET, "\n".join(sql)
    # The order is locked (its uncovered balance decides the amount), drawing the payment's id.
    assert any('FROM "orders_order"' in q and "nextval" in q and "FOR UPDATE" in q for q in sql)

    payment_id = response.json()["id"]
    process = {"payment_method_id": "tok_success"}
    response, sql = statements(
        lambda: post(client, f"/api/v1/payments/{payment_id}/process", process)
    )
    assert response.status_code in (200, 202), response.json()
    assert len(sql) <= PROCESS_BUDGET, "\n".join(sql)
    locks = [q for q in sql if q.endswith("FOR UPDATE")]
    assert any('FROM "orders_order"' in q for q in locks), sql  # the order, then
    assert any('FROM "payments_payment"' in q for q in locks), sql  # the payment


def seed(user, product, count):
    """Write count orders, each with one line, one payment and one ledger row."""
    for _ in range(count):
        payment = PaymentFactory(order=OrderFactory(user=user, product=product))
        TransactionFactory(
            payment=payment, transaction_type="refund", amount=Decimal("1.00"), status="pending"
        )


@pytest.mark.parametrize(
    "path", ["/api/v1/orders", "/api/v1/payments", "/api/v1/transactions", "/api/v1/products"]
)
def test_list_pages_cost_the_same_at_any_page_size(api, customer, product, path):
    seed(customer, product, 12)
    for index in range(12):
        ProductFactory(sku=f"LIST-{index}")
    client = api(customer)
    counts = {}
    for size in (2, 12):
        response, sql = statements(lambda size=size: client.get(f"{path}?page_size={size}"))
        assert response.status_code == 200
        assert len(response.json()["results"]) == size
        counts[size] = len(sql)
    assert counts[2] == counts[12], counts


@pytest.mark.parametrize("path", ["/api/v1/orders/{id}", "/api/v1/payments/{id}"])
def test_detail_pages_cost_the_same_for_a_bigger_order(api, customer, path):
    client = api(customer)
    counts = []
    for lines in (1, 6):
        order = make_order(customer, ProductFactory(sku=f"DETAIL-{lines}"), quantity=lines)
        payment = make_payment(customer, order)
        for index in range(lines - 1):
            order.items.create(
                product=ProductFactory(sku=f"DETAIL-{lines}-{index}"),
                quantity=1,
                unit_price=1,
                total_price=1,
            )
        target = order.pk if "orders" in path else payment.pk
        response, sql = statements(lambda target=target: client.get(path.format(id=target)))
        assert response.status_code == 200
        counts.append(len(sql))
    assert counts[0] == counts[1], counts


def test_process_with_a_broker_stores_what_it_answered_without_rendering_twice(
    api, customer, product, use_broker
):
    """With a worker to do the charge, nothing ran inline: the answer rendered before commit is
    final, so it is neither read back nor stored again after commit (two statements fewer)."""
    order = make_order(customer, product)
    payment = make_payment(customer, order)
    client = api(customer)
    key = str(uuid.uuid4())
    use_broker("redis://127.0.0.1:6379/15")  # nothing reaches it: the test never commits
    path = f"/api/v1/payments/{payment.pk}/process"
    body = {"payment_method_id": "tok_success"}
    response, sql = statements(
        lambda: client.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY=key)
    )
    assert response.status_code == 202, response.json()
    assert response.json()["status"] == "processing"
    assert len(sql) <= PROCESS_BUDGET - 2, "\n".join(sql)
    assert not any(q.startswith('UPDATE "gamarriando_idempotencykey"') for q in sql)
    replay = client.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json() == response.json()

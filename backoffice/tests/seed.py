"""Bulk rows for the admin list tests, written straight through the ORM."""

import uuid
from decimal import Decimal

from gamarriando.events import OutboxEvent
from gamarriando.idempotency import IdempotencyKey
from orders.models import Order, Product
from orders.tests.factories import ADDRESS
from payments.models import Payment
from tests.factories import UserFactory
from transactions.models import Transaction


def seed_rows(count: int) -> None:
    """Write count customers, products, orders, payments, ledger rows, keys and events."""
    for _ in range(count):
        tag = uuid.uuid4().hex[:10]
        user = UserFactory(email=f"{tag}@example.com")
        Product.objects.create(sku=tag, name=tag, price=Decimal("5.00"))
        order = Order.objects.create(
            user=user,
            order_number=tag,
            total_amount=Decimal("5.00"),
            shipping_address=ADDRESS,
            billing_address=ADDRESS,
        )
        payment = Payment.objects.create(
            order=order, payment_method="simulated", amount=Decimal("5.00"), currency="PEN"
        )
        Transaction.objects.create(
            payment=payment,
            transaction_type="charge",
            amount=Decimal("5.00"),
            currency="PEN",
            created_by=user,
        )
        IdempotencyKey.objects.create(
            user=user,
            key=tag,
            method="POST",
            path="/api/v1/orders",
            request_hash=tag,
            response_status=201,
        )
        OutboxEvent.objects.create(type="order.created", data={}, order_id=order.pk)

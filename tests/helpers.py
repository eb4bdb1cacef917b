"""Helpers that drive the real services to build test states."""

from decimal import Decimal

from orders.services import order_create
from orders.tests.factories import ADDRESS
from payments.services import payment_create, payment_process
from payments.services.disputes import dispute_record


def make_order(user, product, quantity=1, currency="PEN"):
    """Place an order through the service, as the API would."""
    return order_create(
        user=user,
        items=[{"product_id": product.pk, "quantity": quantity}],
        shipping_address=dict(ADDRESS),
        currency=currency,
    )


def make_payment(user, order, amount=None, method="simulated"):
    """Open a pending payment for the order's balance (or the given amount)."""
    return payment_create(
        user=user,
        order_id=order.pk,
        payment_method=method,
        amount=Decimal(amount) if amount is not None else order.total_amount,
    )


def make_paid(user, product, quantity=1, token="tok_success", capture=True):
    """Place an order in the product's currency and pay it; needs a transactional test."""
    order = make_order(user, product, quantity, currency=product.currency)
    payment = make_payment(user, order)
    payment_process(payment_id=payment.pk, actor=user, payment_method_id=token, capture=capture)
    payment.refresh_from_db()
    order.refresh_from_db()
    return order, payment


def post_process(client, payment_id, method_id, **extra):
    """POST /payments/{id}/process with a gateway token, as the storefront does."""
    return client.post(
        f"/api/v1/payments/{payment_id}/process",
        {"payment_method_id": method_id, **extra},
        format="json",
    )


def record_dispute(payment, ref, status="needs_response", *, amount, due=None):
    """Record a dispute on the payment as the simulated gateway's webhook would report it."""
    return dispute_record(
        payment_id=payment.pk,
        gateway="simulated",
        gateway_dispute_id=ref,
        amount=Decimal(amount),
        currency=payment.currency,
        reason="fraudulent",
        status=status,
        evidence_due_by=due,
    )

"""A Stripe refund that fails after it succeeded: reversed in the ledger once, Finance told."""

from decimal import Decimal

import pytest
from django.core import mail

from gamarriando.events import OutboxEvent
from orders.models import Order
from payments.models import Payment
from payments.services import payment_refund
from payments.tests.helpers import post_event
from transactions.models import Transaction

pytestmark = pytest.mark.django_db(transaction=True)


def fail_at_stripe(client, fake, refund_row, *events):
    """Stripe moves the refund to failed and tells us (possibly more than once)."""
    refund = fake.refunds[refund_row.gateway_transaction_id]
    refund["status"], refund["failure_reason"] = "failed", "expired_or_canceled_card"
    for event_type in events:
        assert post_event(client, fake.event(event_type, refund)).status_code == 200


def test_a_refund_that_fails_later_is_reversed_once_and_finance_is_told(
    client, api, finance, paid_with_stripe, fake_stripe
):
    _, payment, _ = paid_with_stripe
    _, row = payment_refund(payment_id=payment.pk, actor=finance, reason="x", amount=Decimal("20"))
    row.refresh_from_db()
    assert row.status == "succeeded"
    mail.outbox.clear()
    published = set(OutboxEvent.objects.values_list("pk", flat=True))
    fail_at_stripe(
        client, fake_stripe, row, "refund.failed", "refund.updated", "charge.refund.updated"
    )
    # Back to completed, but nobody paid again: one refund.failed, no payment.succeeded or mail.
    new = OutboxEvent.objects.exclude(pk__in=published).values_list("type", flat=True)
    assert list(new) == ["refund.failed"]
    assert [m.subject for m in mail.outbox if "Payment received" in m.subject] == []

    payment.refresh_from_db()
    assert (payment.status, payment.refunded_amount) == ("completed", Decimal("0.00"))
    rows = Transaction.objects.filter(payment=payment).order_by("pk")
    assert [(r.transaction_type, r.status, r.amount) for r in rows] == [
        ("charge", "succeeded", Decimal("50.00")),
        ("refund", "succeeded", Decimal("20.00")),  # the ledger keeps what happened
        ("refund_reversal", "succeeded", Decimal("20.00")),
    ]
    body = api(finance).get(f"/api/v1/payments/{payment.pk}").json()
    assert (body["refunded_amount"], body["refundable_amount"]) == ("0.00", "50.00")
    [told] = [m for m in mail.outbox if m.subject == "A refund failed after it succeeded"]
    assert told.to == [finance.email] and "expired_or_canceled_card" in told.body
    # Finance sends the money another way: to store credit, which settles at once.
    payment_refund(
        payment_id=payment.pk,
        actor=finance,
        reason="card closed",
        amount=Decimal("20"),
        destination="wallet",
    )
    payment.refresh_from_db()
    assert (payment.status, payment.refunded_amount) == ("partially_refunded", Decimal("20.00"))


def test_a_cancelled_orders_failed_refund_is_not_retried_automatically(
    client, api, customer, paid_with_stripe, fake_stripe
):
    order, payment, _ = paid_with_stripe
    assert api(customer).delete(f"/api/v1/orders/{order.pk}").status_code in (200, 202)
    row = Transaction.objects.get(payment=payment, transaction_type="refund")
    assert row.status == "succeeded"
    refunds_at_stripe = len(fake_stripe.refunds)
    fail_at_stripe(client, fake_stripe, row, "refund.failed")
    assert len(fake_stripe.refunds) == refunds_at_stripe  # no second refund to a closed card
    payment.refresh_from_db()
    order.refresh_from_db()
    assert (order.status, order.amount_refunded) == ("cancelled", Decimal("0.00"))
    assert (payment.status, payment.refunded_amount) == ("completed", Decimal("0.00"))
    assert (
        Payment.objects.get(pk=payment.pk).refunded_amount
        == Order.objects.get(pk=order.pk).amount_refunded
    )


def test_only_a_gateway_writes_a_refund_reversal(api, finance, paid_with_stripe):
    _, payment, _ = paid_with_stripe
    response = api(finance).post(
        "/api/v1/transactions",
        {
            "payment_id": payment.pk,
            "transaction_type": "refund_reversal",
            "amount": "5.00",
            "reason": "by hand",
        },
        format="json",
    )
    assert response.status_code == 400
    assert "transaction_type" in response.json()["error"]["details"]

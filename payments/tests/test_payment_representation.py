"""The payment's fast rendering equals what its declared serializer fields render."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework import serializers

from payments import selectors
from payments.api import PaymentOutputSerializer
from payments.models import Dispute, Payment, PaymentStatus
from payments.tests.factories import PaymentFactory
from transactions.models import TransactionStatus, TransactionType
from transactions.tests.factories import TransactionFactory

pytestmark = pytest.mark.django_db


def declared(payment):
    """Render with DRF's field machinery, bypassing the fast to_representation."""
    return serializers.ModelSerializer.to_representation(PaymentOutputSerializer(payment), payment)


def _both_ways(payment_id, user):
    """The payment as the lists and details read it (annotated) and as a plain row."""
    return [
        selectors.payment_visible_to(user).get(pk=payment_id),
        Payment.objects.get(pk=payment_id),
    ]


def test_a_new_payment_renders_as_its_declared_fields(customer, product):
    payment = PaymentFactory(order__user=customer, order__product=product)
    for instance in [*_both_ways(payment.pk, customer), selectors.with_new_figures(payment)]:
        fast = PaymentOutputSerializer(instance).data
        assert fast == declared(instance)
        assert list(fast) == list(declared(instance))  # the keys in the declared order
    assert fast["dispute_status"] is None and fast["disputed"] is False


def test_a_refunded_disputed_payment_with_everything_set_renders_as_declared(customer, product):
    payment = PaymentFactory(
        order__user=customer,
        order__product=product,
        order__quantity=4,
        status=PaymentStatus.PARTIALLY_REFUNDED,
        authorized_amount=Decimal("100.00"),
        captured_amount=Decimal("100.00"),
        refunded_amount=Decimal("30.00"),
        gateway_transaction_id="sim_123",
        failure_code="card_declined",
        failure_message="Declined once, then paid.",
        next_action={"type": "redirect_to_url", "redirect_to_url": {"url": "https://x.test/3ds"}},
        disputed=True,
        metadata={"cart": "c-9", "channel": "app", "n": 3},
        wallet="apple_pay",
        processed_at=timezone.now() - timedelta(hours=1),
    )
    TransactionFactory(
        payment=payment,
        transaction_type=TransactionType.REFUND,
        status=TransactionStatus.PENDING,
        amount=Decimal("5.00"),
    )
    Dispute.objects.create(
        payment=payment,
        gateway="simulated",
        gateway_dispute_id="dp_1",
        amount=Decimal("10.00"),
        currency=payment.currency,
        status="needs_response",
    )
    for instance in _both_ways(payment.pk, customer):
        fast = PaymentOutputSerializer(instance).data
        assert fast == declared(instance)
        assert list(fast) == list(declared(instance))
    assert fast["metadata"] == {"cart": "c-9", "channel": "app", "n": "3"}
    assert fast["dispute_status"] == "needs_response"
    assert fast["processed_at"].endswith("Z")


def test_the_detail_endpoint_answers_the_declared_rendering(api, customer, product):
    payment = PaymentFactory(order__user=customer, order__product=product, metadata={"a": "1"})
    rendered = api(customer).get(f"/api/v1/payments/{payment.pk}").json()
    assert rendered == declared(selectors.payment_visible_to(customer).get(pk=payment.pk))

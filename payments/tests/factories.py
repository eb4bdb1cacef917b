"""factory-boy factories for payments and stored Stripe webhook events."""

import factory
from django.utils import timezone

from orders.tests.factories import OrderFactory
from payments.models import Payment, PaymentStatus, StripeEventStatus, StripeWebhookEvent


class PaymentFactory(factory.django.DjangoModelFactory):
    """A pending simulated payment for its order's whole total; nothing authorized or captured."""

    class Meta:
        model = Payment

    order = factory.SubFactory(OrderFactory)
    payment_method = "simulated"
    amount = factory.SelfAttribute("order.total_amount")
    currency = factory.SelfAttribute("order.currency")
    status = PaymentStatus.PENDING


class StripeWebhookEventFactory(factory.django.DjangoModelFactory):
    """A verified Stripe event as the webhook stores it, not yet processed."""

    class Meta:
        model = StripeWebhookEvent

    id = factory.Sequence(lambda n: f"evt_test_{n:06d}")
    type = "payment_intent.succeeded"
    livemode = False
    stripe_created = factory.LazyFunction(timezone.now)
    payload = factory.LazyAttribute(
        lambda event: {
            "id": event.id,
            "object": "event",
            "type": event.type,
            "livemode": event.livemode,
            "created": int(event.stripe_created.timestamp()),
            "data": {"object": {}},
        }
    )
    status = StripeEventStatus.RECEIVED

"""factory-boy factories for webhook subscriptions."""

import factory

from notifications.models import WebhookSubscription


class WebhookSubscriptionFactory(factory.django.DjangoModelFactory):
    """An active subscription to every event type, with its own signing secret."""

    class Meta:
        model = WebhookSubscription

    url = factory.Sequence(lambda n: f"http://127.0.0.1:9/hooks/{n}")

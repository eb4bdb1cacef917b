"""Reprocessing stored Stripe events is operations work, checked in the service itself."""

import pytest

from gamarriando.errors import PermissionDeniedError
from payments import tasks
from payments.stripe.events import stripe_events_reprocess
from payments.tests.factories import StripeWebhookEventFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_only_operations_staff_reprocess_and_processed_events_are_skipped(
    finance, support, monkeypatch
):
    handled = []
    monkeypatch.setattr(tasks, "stripe_event_process", lambda event_id: handled.append(event_id))
    failed = StripeWebhookEventFactory(status="failed", last_error="boom")
    done = StripeWebhookEventFactory(status="processed")

    with pytest.raises(PermissionDeniedError):
        stripe_events_reprocess(event_ids=[failed.pk, done.pk], actor=support)
    assert handled == []

    assert stripe_events_reprocess(event_ids=[failed.pk, done.pk], actor=finance) == 1
    assert handled == [failed.pk]

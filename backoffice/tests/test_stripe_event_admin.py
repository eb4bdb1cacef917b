"""Reprocessing a failed Stripe event from the admin."""

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


def test_staff_reprocess_a_failed_stripe_event_from_the_admin(
    browser_for, finance, support, monkeypatch
):
    from django.utils import timezone

    from payments import tasks
    from payments.models import StripeWebhookEvent

    event = StripeWebhookEvent.objects.create(
        id="evt_failed1",
        type="refund.updated",
        stripe_created=timezone.now(),
        payload={},
        status="failed",
        last_error="boom",
    )
    handled = []
    monkeypatch.setattr(tasks, "stripe_event_process", lambda event_id: handled.append(event_id))
    data = {"action": "reprocess", "_selected_action": [event.pk]}
    browser_for(support).post("/admin/payments/stripewebhookevent/", data)
    assert handled == []
    browser_for(finance).post("/admin/payments/stripewebhookevent/", data)
    assert handled == ["evt_failed1"]

"""Reprocessing a failed Stripe event from the admin."""

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


def test_staff_reprocess_a_failed_stripe_event_from_the_admin(
    browser_for, finance, support, stripe_event
):
    data = {"action": "reprocess", "_selected_action": [stripe_event.pk]}
    browser_for(support).post("/admin/payments/stripewebhookevent/", data)
    assert stripe_event.handled == []
    browser_for(finance).post("/admin/payments/stripewebhookevent/", data)
    assert stripe_event.handled == [stripe_event.pk]

"""The order timeline lists status changes, ledger rows and events in time order."""

from datetime import timedelta

import pytest
from django.utils import timezone

from backoffice.tests.helpers import operation_url, submit
from payments.models import Dispute
from tests.helpers import record_dispute

pytestmark = pytest.mark.django_db(transaction=True)


def test_order_timeline_lists_everything_in_time_order(browser_for, finance, paid):
    order, payment = paid
    client = browser_for(finance)
    submit(client, operation_url(payment, "refund"), amount="5.00", reason="scratch")
    page = client.get(f"/admin/orders/order/{order.pk}/change/").content.decode()
    timeline = page[page.index('id="order-timeline"') :]
    for text in (
        "→ pending",
        "→ processing",
        "charge 80.00 PEN: succeeded",
        "→ completed",
        "→ paid",
        "refund 5.00 PEN: succeeded",
        "finance@example.com",
        "payment.succeeded",
    ):
        assert text in timeline, text
    assert (
        timeline.index("→ pending") < timeline.index("charge 80.00") < timeline.index("refund 5.00")
    )


def test_an_open_dispute_shows_on_the_order_timeline_and_the_payment_page(
    browser_for, finance, paid
):
    order, payment = paid
    due = timezone.now() + timedelta(days=5)
    record_dispute(payment, "dp_seen", amount="80.00", due=due)
    client = browser_for(finance)
    page = client.get(f"/admin/orders/order/{order.pk}/change/").content.decode()
    timeline = page[page.index('id="order-timeline"') :]
    assert f"dp_seen 80.00 PEN (fraudulent): needs response, evidence due {due:%Y-%m-%d %H:%M}" in (
        timeline
    )
    payment_page = client.get(f"/admin/payments/payment/{payment.pk}/change/").content.decode()
    dispute = Dispute.objects.get(gateway_dispute_id="dp_seen")
    assert (
        f'<a href="/admin/payments/dispute/{dispute.pk}/change/">dp_seen</a>: needs response, 80.00 PEN, evidence due'
        in payment_page
    )

"""The order timeline lists status changes, ledger rows and events in time order."""

import pytest

from backoffice.tests.helpers import operation_url, submit

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

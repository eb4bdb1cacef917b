"""PayPal disputes from the Disputes API: recorded, hold refunds while open, money once."""

import io
from decimal import Decimal

import pytest
from django.core.management import call_command

from orders.models import Order
from payments.models import Dispute
from payments.tests.test_paypal_webhooks import deliver, paid, reverse
from transactions.models import Transaction

pytestmark = pytest.mark.django_db(transaction=True)


def tell(fake, event_type, dispute, times=2):
    """PayPal sends the dispute event (twice, under two event ids, as it may)."""
    for _ in range(times):
        assert deliver(fake, fake.event(event_type, dispute)).status_code == 200


def refund(api, finance, payment):
    return api(finance).post(
        f"/api/v1/payments/{payment.pk}/refund", {"reason": "during a dispute"}, format="json"
    )


def chargebacks(payment):
    return list(
        Transaction.objects.filter(payment=payment, transaction_type="chargeback").values_list(
            "amount", flat=True
        )
    )


def test_an_open_dispute_is_recorded_and_holds_refunds_until_won(
    api, customer, finance, fake_paypal
):
    payment, _, capture = paid(api, customer, fake_paypal)
    dispute = fake_paypal.open_dispute(capture["id"])
    tell(fake_paypal, "CUSTOMER.DISPUTE.CREATED", dispute)
    recorded = Dispute.objects.get(gateway_dispute_id=dispute["dispute_id"])
    assert (recorded.gateway, recorded.status, recorded.amount) == (
        "paypal",
        "needs_response",
        Decimal("59.98"),
    )
    body = api(customer).get(f"/api/v1/payments/{payment.pk}").json()
    assert (body["disputed"], body["dispute_status"]) == (True, "needs_response")
    held = refund(api, finance, payment)
    assert held.status_code == 409
    assert held.json()["error"]["details"]["dispute_status"] == "needs_response"
    assert fake_paypal.count("POST", "/refund") == 0

    tell(
        fake_paypal,
        "CUSTOMER.DISPUTE.RESOLVED",
        fake_paypal.move_dispute(dispute["dispute_id"], "RESOLVED", "RESOLVED_SELLER_FAVOUR"),
    )
    assert Dispute.objects.get(pk=recorded.pk).status == "won"
    assert chargebacks(payment) == []  # a won dispute moved no money
    assert refund(api, finance, payment).status_code == 202


@pytest.mark.parametrize("reversal_first", [False, True])
def test_a_dispute_the_buyer_wins_takes_the_money_once(
    api, customer, finance, fake_paypal, reversal_first
):
    payment, _, capture = paid(api, customer, fake_paypal)
    dispute = fake_paypal.open_dispute(capture["id"])
    tell(fake_paypal, "CUSTOMER.DISPUTE.CREATED", dispute)
    resolved = fake_paypal.move_dispute(dispute["dispute_id"], "RESOLVED", "RESOLVED_BUYER_FAVOUR")
    if reversal_first:
        reverse(fake_paypal, capture)
        tell(fake_paypal, "CUSTOMER.DISPUTE.RESOLVED", resolved)
    else:
        tell(fake_paypal, "CUSTOMER.DISPUTE.RESOLVED", resolved)
        assert chargebacks(payment) == []  # PayPal's reversal carries the money, not the status
        reverse(fake_paypal, capture)
    assert Dispute.objects.get(gateway_dispute_id=dispute["dispute_id"]).status == "lost"
    assert Dispute.objects.count() == 2  # PayPal's dispute and the reversal that took the money
    assert chargebacks(payment) == [Decimal("59.98")]
    body = api(finance).get(f"/api/v1/payments/{payment.pk}").json()
    assert body["refundable_amount"] == "0.00"


def test_a_cancelled_order_gives_back_only_after_the_dispute_is_won(
    api, customer, finance, fake_paypal
):
    payment, _, capture = paid(api, customer, fake_paypal)
    dispute = fake_paypal.open_dispute(capture["id"])
    tell(fake_paypal, "CUSTOMER.DISPUTE.CREATED", dispute)
    assert api(finance).delete(f"/api/v1/orders/{payment.order_id}").status_code in (200, 202)
    assert Order.objects.get(pk=payment.order_id).status == "cancelled"
    assert fake_paypal.count("POST", "/refund") == 0  # held while the buyer may still win
    tell(
        fake_paypal,
        "CUSTOMER.DISPUTE.RESOLVED",
        fake_paypal.move_dispute(dispute["dispute_id"], "RESOLVED", "RESOLVED_SELLER_FAVOUR"),
    )
    refunds = Transaction.objects.filter(payment=payment, transaction_type="refund")
    assert [(r.amount, r.status) for r in refunds] == [(Decimal("59.98"), "succeeded")]


def test_an_inquiry_is_a_warning_and_closes_without_money(api, customer, fake_paypal):
    payment, _, capture = paid(api, customer, fake_paypal)
    dispute = fake_paypal.open_dispute(capture["id"], stage="INQUIRY")
    tell(fake_paypal, "CUSTOMER.DISPUTE.CREATED", dispute)
    recorded = Dispute.objects.get(gateway_dispute_id=dispute["dispute_id"])
    assert recorded.status == "warning_needs_response"
    tell(
        fake_paypal,
        "CUSTOMER.DISPUTE.UPDATED",
        fake_paypal.move_dispute(dispute["dispute_id"], "UNDER_REVIEW"),
    )
    assert Dispute.objects.get(pk=recorded.pk).status == "warning_under_review"
    tell(
        fake_paypal,
        "CUSTOMER.DISPUTE.RESOLVED",
        fake_paypal.move_dispute(dispute["dispute_id"], "RESOLVED", "CANCELED_BY_BUYER"),
    )
    assert Dispute.objects.get(pk=recorded.pk).status == "warning_closed"
    assert chargebacks(payment) == []


def test_a_dispute_won_after_paypal_reversed_the_capture_gives_the_money_back(
    api, customer, finance, fake_paypal
):
    payment, _, capture = paid(api, customer, fake_paypal)
    dispute = fake_paypal.open_dispute(capture["id"])
    tell(fake_paypal, "CUSTOMER.DISPUTE.CREATED", dispute)
    reverse(fake_paypal, capture)  # PayPal takes the money while the claim is decided
    assert chargebacks(payment) == [Decimal("59.98")]
    won = fake_paypal.move_dispute(dispute["dispute_id"], "RESOLVED", "RESOLVED_SELLER_FAVOUR")
    tell(fake_paypal, "CUSTOMER.DISPUTE.RESOLVED", won)
    given_back = Transaction.objects.filter(payment=payment, transaction_type="chargeback_reversal")
    assert [row.amount for row in given_back] == [Decimal("59.98")]
    assert set(Dispute.objects.values_list("status", flat=True)) == {"won"}
    body = api(finance).get(f"/api/v1/payments/{payment.pk}").json()
    assert body["refundable_amount"] == "59.98"


def refunds(payment):
    return list(
        Transaction.objects.filter(payment=payment, transaction_type="refund").values_list(
            "amount", flat=True
        )
    )


@pytest.mark.parametrize("seen_first_by", ["the dispute event", "the transaction search"])
def test_a_reversal_read_before_its_event_is_one_chargeback_not_a_refund_too(
    api, customer, finance, fake_paypal, seen_first_by
):
    """PayPal's order shows the reversal as a refund before REVERSED names it (in any order)."""
    payment, _, capture = paid(api, customer, fake_paypal)
    dispute = fake_paypal.open_dispute(capture["id"])
    reversal = fake_paypal.dashboard_refund(capture["id"], "59.98", reversal=True)
    if seen_first_by == "the dispute event":
        tell(fake_paypal, "CUSTOMER.DISPUTE.CREATED", dispute)
        assert refunds(payment) == []  # not taken for a dashboard refund: PayPal reverses
    else:
        call_command("reconcile_paypal", "--since", "2020-01-01", stdout=io.StringIO())
    for _ in range(2):
        event = fake_paypal.event("PAYMENT.CAPTURE.REVERSED", reversal)
        assert deliver(fake_paypal, event).status_code == 200
    assert refunds(payment) == []
    assert chargebacks(payment) == [Decimal("59.98")]
    body = api(finance).get(f"/api/v1/payments/{payment.pk}").json()
    assert (body["refundable_amount"], body["refunded_amount"]) == ("0.00", "0.00")


def test_a_refund_made_in_paypal_during_a_won_dispute_is_counted_once_it_is_won(
    api, customer, fake_paypal
):
    payment, _, capture = paid(api, customer, fake_paypal)
    dispute = fake_paypal.open_dispute(capture["id"])
    tell(fake_paypal, "CUSTOMER.DISPUTE.CREATED", dispute)
    made = fake_paypal.dashboard_refund(capture["id"], "10.00")  # the seller settles a part
    assert (
        deliver(fake_paypal, fake_paypal.event("PAYMENT.CAPTURE.REFUNDED", made)).status_code == 200
    )
    assert refunds(payment) == []  # while open, it may be the reversal: wait
    won = fake_paypal.move_dispute(dispute["dispute_id"], "RESOLVED", "RESOLVED_SELLER_FAVOUR")
    tell(fake_paypal, "CUSTOMER.DISPUTE.RESOLVED", won)  # no one runs a reconcile by hand
    assert refunds(payment) == [Decimal("10.00")]
    assert chargebacks(payment) == []


def test_a_dispute_lost_records_the_reversal_and_the_refund_made_before_it(
    api, customer, fake_paypal
):
    payment, _, capture = paid(api, customer, fake_paypal)
    dispute = fake_paypal.open_dispute(capture["id"])
    tell(fake_paypal, "CUSTOMER.DISPUTE.CREATED", dispute)
    made = fake_paypal.dashboard_refund(capture["id"], "10.00")  # listed before the reversal
    assert (
        deliver(fake_paypal, fake_paypal.event("PAYMENT.CAPTURE.REFUNDED", made)).status_code == 200
    )
    lost = fake_paypal.move_dispute(dispute["dispute_id"], "RESOLVED", "RESOLVED_BUYER_FAVOUR")
    tell(fake_paypal, "CUSTOMER.DISPUTE.RESOLVED", lost)
    assert refunds(payment) == []  # lost: the reversal is still to come
    reverse(fake_paypal, capture, amount="49.98")
    assert chargebacks(payment) == [Decimal("49.98")]
    assert refunds(payment) == [Decimal("10.00")]

"""A refund of a Stripe payment from the admin, and its webhook adding nothing new."""

from decimal import Decimal

import pytest

from payments.tests.helpers import post_event
from transactions.models import Transaction

pytestmark = pytest.mark.django_db(transaction=True)


def test_finance_refunds_a_stripe_payment_from_the_admin_and_sees_the_webhook(
    client, finance, paid_with_stripe, fake_stripe
):
    order, payment, pi = paid_with_stripe
    client.force_login(finance)
    url = f"/admin/payments/payment/{payment.pk}/refund/"
    nonce = str(client.get(url).context["form"].initial["nonce"])
    client.post(url, {"nonce": nonce, "amount": "12.50", "reason": "stain"})
    client.post(url, {"nonce": nonce, "amount": "12.50", "reason": "stain", "confirm": "True"})
    payment.refresh_from_db()
    assert payment.refunded_amount == Decimal("12.50")
    assert fake_stripe.refunded_total(pi["id"]) == 1250
    post_event(
        client, fake_stripe.event("charge.refunded", fake_stripe.charges[pi["latest_charge"]])
    )
    assert (
        Transaction.objects.filter(transaction_type="refund").count() == 1
    )  # the webhook adds nothing new
    timeline = client.get(f"/admin/orders/order/{order.pk}/change/").content.decode()
    assert "charge.refunded (processed)" in timeline

"""The wallet.* events reach outgoing webhook subscribers through the outbox, signed."""

from decimal import Decimal

import pytest

from orders.tests.factories import ProductFactory
from payments.services import payment_process
from tests.helpers import make_order, make_payment
from wallets.tests.factories import funded_wallet

pytestmark = pytest.mark.django_db(transaction=True)


def test_wallet_events_reach_webhook_subscribers(customer, subscriber):  # noqa: F811
    subscriber.up = True
    funded_wallet(customer, "25.00")
    product = ProductFactory(price=Decimal("10.00"), stock=5)
    paid = make_payment(customer, make_order(customer, product), method="wallet")
    payment_process(payment_id=paid.pk, actor=customer)
    short = make_payment(customer, make_order(customer, product, quantity=2), method="wallet")
    payment_process(payment_id=short.pk, actor=customer)

    by_type = {event["type"]: event for event in subscriber.received}
    assert {
        "wallet.funds_reserved",
        "wallet.funds_deducted",
        "wallet.reservation_failed",
    } <= set(by_type)
    assert by_type["wallet.funds_deducted"]["data"]["payment_id"] == paid.pk
    assert by_type["wallet.funds_deducted"]["data"]["balance"] == "15.00"
    assert by_type["wallet.reservation_failed"]["data"]["amount"] == "20.00"
    assert subscriber.unverified() == []

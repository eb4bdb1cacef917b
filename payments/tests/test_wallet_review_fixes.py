"""Store credit after review: refunds to it are counted, and authorized holds never starve expiry."""

from decimal import Decimal

import pytest
from prometheus_client import REGISTRY

from payments.gateways.registry import get_gateway
from payments.services import payment_process, payment_refund, wallet_expire_holds
from payments.tests.test_wallet_payments import item, pay_with_wallet  # noqa: F401  (fixture)
from tests.helpers import make_order, make_payment
from wallets.models import WalletHold
from wallets.tests.factories import funded_wallet

pytestmark = pytest.mark.django_db(transaction=True)


def refunded(currency="PEN"):
    labels = {"currency": currency, "gateway": "wallet", "kind": "refund"}
    return REGISTRY.get_sample_value("gamarriando_payment_amount_total", labels) or 0


def test_a_refund_to_store_credit_is_counted_in_the_payment_amount(customer, finance, item):  # noqa: F811
    card = make_payment(customer, make_order(customer, item))
    payment_process(payment_id=card.pk, actor=customer, payment_method_id="tok_success")
    before = refunded()
    payment_refund(
        payment_id=card.pk,
        actor=finance,
        amount=Decimal("12.50"),
        reason="goodwill",
        destination="wallet",
    )
    assert refunded() - before == pytest.approx(12.50)


def test_authorized_holds_do_not_use_up_the_expiry_limit(customer, item, use_broker):  # noqa: F811
    funded_wallet(customer, "100.00")
    # An older authorized hold: overdue, but it waits for capture or void, not for expiry.
    authorized = pay_with_wallet(customer, make_order(customer, item), capture=False)
    assert authorized.status == "authorized"
    use_broker("memory://")  # the worker never runs: the second attempt stays pending
    pending = make_payment(customer, make_order(customer, item), method="wallet")
    payment_process(payment_id=pending.pk, actor=customer)
    txn = pending.transactions.get()
    get_gateway("wallet").charge(
        token="",
        amount=txn.amount,
        currency="PEN",
        capture=True,
        idempotency_key=txn.idempotency_key,
        metadata={"payment_id": pending.pk, "order_id": pending.order_id},
        customer=customer,
    )
    assert WalletHold.objects.filter(status="held").count() == 2
    WalletHold.objects.update(expires_at="2020-01-01T00:00:00Z")
    WalletHold.objects.filter(idempotency_key=txn.idempotency_key).update(
        expires_at="2021-01-01T00:00:00Z"
    )
    assert wallet_expire_holds(limit=1) == 1
    pending.refresh_from_db()
    authorized.refresh_from_db()
    assert (pending.status, pending.failure_code) == ("failed", "hold_expired")
    assert authorized.status == "authorized"

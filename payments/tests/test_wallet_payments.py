"""Store credit as a payment method: hold at process, deduct on success, release otherwise."""

from decimal import Decimal

import pytest

from gamarriando.events import OutboxEvent
from orders.services import order_cancel
from orders.tests.factories import ProductFactory
from payments.gateways.registry import get_gateway
from payments.gateways.wallet import hold_reference
from payments.services import (
    payment_apply_gateway_result,
    payment_cancel,
    payment_capture,
    payment_process,
    payment_refund,
    wallet_expire_holds,
)
from tests.helpers import make_order, make_payment
from transactions.models import Transaction
from wallets.models import Wallet, WalletEntry, WalletHold
from wallets.selectors import wallet_drift
from wallets.tests.factories import funded_wallet

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def item(db):
    return ProductFactory(price=Decimal("30.00"), stock=50)


def wallet_figures(user, currency="PEN"):
    wallet = Wallet.objects.get(user=user, currency=currency)
    return wallet.balance, wallet.held


def entry_types(user):
    return list(
        WalletEntry.objects.filter(wallet__user=user)
        .order_by("version")
        .values_list("entry_type", "amount")
    )


def pay_with_wallet(user, order, amount=None, capture=True):
    payment = make_payment(user, order, amount=amount, method="wallet")
    payment_process(payment_id=payment.pk, actor=user, capture=capture)
    payment.refresh_from_db()
    order.refresh_from_db()
    return payment


def test_a_wallet_payment_holds_then_deducts_and_pays_the_order(customer, item):
    funded_wallet(customer, "50.00")
    order = make_order(customer, item)
    payment = pay_with_wallet(customer, order)
    assert (payment.status, payment.captured_amount) == ("completed", Decimal("30.00"))
    assert payment.gateway_transaction_id.startswith("wh_")
    assert order.status == "paid"
    assert wallet_figures(customer) == (Decimal("20.00"), Decimal("0.00"))
    assert entry_types(customer) == [
        ("credit", Decimal("50.00")),
        ("hold", Decimal("30.00")),
        ("debit", Decimal("30.00")),
    ]
    assert WalletHold.objects.get().status == "deducted"
    types = set(OutboxEvent.objects.values_list("type", flat=True))
    assert {"wallet.funds_reserved", "wallet.funds_deducted", "payment.succeeded"} <= types
    assert wallet_drift() == []


def test_short_store_credit_fails_the_payment_with_insufficient_funds(customer, item):
    funded_wallet(customer, "10.00")
    order = make_order(customer, item)
    payment = pay_with_wallet(customer, order)
    assert (payment.status, payment.failure_code) == ("failed", "insufficient_funds")
    assert order.status == "pending"
    assert wallet_figures(customer) == (Decimal("10.00"), Decimal("0.00"))
    assert not WalletHold.objects.exists()
    assert OutboxEvent.objects.filter(type="wallet.reservation_failed").count() == 1


def test_a_token_is_refused_for_a_wallet_payment(customer, item):
    funded_wallet(customer, "50.00")
    payment = make_payment(customer, make_order(customer, item), method="wallet")
    with pytest.raises(Exception, match="takes no payment_method_id"):
        payment_process(payment_id=payment.pk, actor=customer, payment_method_id="tok_success")


def test_authorize_then_capture_part_deducts_it_and_releases_the_rest(customer, finance, item):
    funded_wallet(customer, "50.00")
    order = make_order(customer, item)
    payment = pay_with_wallet(customer, order, capture=False)
    assert payment.status == "authorized"
    assert wallet_figures(customer) == (Decimal("50.00"), Decimal("30.00"))
    payment_capture(payment_id=payment.pk, actor=finance, amount=Decimal("25.00"))
    payment.refresh_from_db()
    assert (payment.status, payment.captured_amount) == ("completed", Decimal("25.00"))
    assert wallet_figures(customer) == (Decimal("25.00"), Decimal("0.00"))
    assert entry_types(customer)[-2:] == [("debit", Decimal("25.00")), ("release", Decimal("5.00"))]
    assert wallet_drift() == []


def test_void_releases_the_hold(customer, item):
    funded_wallet(customer, "50.00")
    order = make_order(customer, item)
    payment = pay_with_wallet(customer, order, capture=False)
    payment_cancel(payment_id=payment.pk, actor=customer)
    payment.refresh_from_db()
    assert payment.status == "cancelled"
    assert wallet_figures(customer) == (Decimal("50.00"), Decimal("0.00"))
    assert WalletHold.objects.get().status == "released"
    assert OutboxEvent.objects.filter(type="wallet.funds_released").count() == 1


def test_cancelling_the_order_releases_an_authorized_hold(customer, item):
    funded_wallet(customer, "50.00")
    order = make_order(customer, item)
    pay_with_wallet(customer, order, capture=False)
    order_cancel(order_id=order.pk, actor=customer, reason="changed my mind")
    assert wallet_figures(customer) == (Decimal("50.00"), Decimal("0.00"))


def test_refunding_a_wallet_payment_credits_the_wallet(customer, finance, item):
    funded_wallet(customer, "50.00")
    order = make_order(customer, item)
    payment = pay_with_wallet(customer, order)
    payment_refund(payment_id=payment.pk, actor=finance, amount=Decimal("12.00"), reason="damaged")
    payment.refresh_from_db()
    assert (payment.status, payment.refunded_amount) == ("partially_refunded", Decimal("12.00"))
    assert wallet_figures(customer) == (Decimal("32.00"), Decimal("0.00"))
    credit = WalletEntry.objects.filter(entry_type="credit").order_by("-version").first()
    assert (credit.amount, credit.payment_id, credit.order_id) == (
        Decimal("12.00"),
        payment.pk,
        order.pk,
    )
    # The janitor asking again changes nothing: the credit is keyed like the ledger row.
    refund = Transaction.objects.get(transaction_type="refund")
    again = get_gateway("wallet").refund(
        reference=payment.gateway_transaction_id,
        amount=Decimal("12.00"),
        currency="PEN",
        idempotency_key=refund.idempotency_key,
    )
    assert again.reference == refund.gateway_transaction_id
    assert wallet_figures(customer) == (Decimal("32.00"), Decimal("0.00"))


def test_split_payment_with_a_failing_card_releases_the_hold(customer, item):
    """30.00 held in the wallet and 70.00 by card: the card fails, the hold is released."""
    funded_wallet(customer, "50.00")
    product = ProductFactory(price=Decimal("100.00"), stock=5)
    order = make_order(customer, product)
    wallet_part = pay_with_wallet(customer, order, amount="30.00", capture=False)
    assert wallet_part.status == "authorized"
    assert wallet_figures(customer) == (Decimal("50.00"), Decimal("30.00"))
    card = make_payment(customer, order, amount="70.00")
    payment_process(payment_id=card.pk, actor=customer, payment_method_id="tok_declined")
    card.refresh_from_db()
    order.refresh_from_db()
    wallet_part.refresh_from_db()
    assert (card.status, card.failure_code) == ("failed", "card_declined")
    assert order.status == "pending"  # paid only when both succeed
    assert wallet_part.status == "cancelled"
    assert wallet_figures(customer) == (Decimal("50.00"), Decimal("0.00"))
    assert WalletHold.objects.get().status == "released"
    assert wallet_drift() == []


def test_split_payment_captures_the_held_part_when_the_card_succeeds(customer, item):
    funded_wallet(customer, "50.00")
    product = ProductFactory(price=Decimal("100.00"), stock=5)
    order = make_order(customer, product)
    wallet_part = pay_with_wallet(customer, order, amount="30.00", capture=False)
    card = make_payment(customer, order, amount="70.00")
    payment_process(payment_id=card.pk, actor=customer, payment_method_id="tok_success")
    order.refresh_from_db()
    wallet_part.refresh_from_db()
    assert (wallet_part.status, wallet_part.captured_amount) == ("completed", Decimal("30.00"))
    assert (order.status, order.amount_paid) == ("paid", Decimal("100.00"))
    assert wallet_figures(customer) == (Decimal("20.00"), Decimal("0.00"))
    assert WalletHold.objects.get().status == "deducted"
    assert wallet_drift() == []


def test_a_wallet_part_authorized_after_the_card_paid_is_captured_at_once(customer, item):
    funded_wallet(customer, "50.00")
    order = make_order(customer, ProductFactory(price=Decimal("100.00"), stock=5))
    card = make_payment(customer, order, amount="70.00")
    payment_process(payment_id=card.pk, actor=customer, payment_method_id="tok_success")
    wallet_part = pay_with_wallet(customer, order, amount="30.00", capture=False)
    wallet_part.refresh_from_db()
    order.refresh_from_db()
    assert (wallet_part.status, wallet_part.captured_amount) == ("completed", Decimal("30.00"))
    assert (order.status, order.amount_paid) == ("paid", Decimal("100.00"))
    assert wallet_figures(customer) == (Decimal("20.00"), Decimal("0.00"))
    assert wallet_drift() == []


def test_a_wallet_only_authorization_waits_for_finance(customer, item):
    funded_wallet(customer, "50.00")
    order = make_order(customer, item)
    wallet_part = pay_with_wallet(customer, order, capture=False)
    assert wallet_part.status == "authorized"
    assert order.status == "pending"
    assert wallet_figures(customer) == (Decimal("50.00"), Decimal("30.00"))


def test_an_authorized_wallet_part_is_released_when_the_order_is_cancelled(customer, item):
    funded_wallet(customer, "50.00")
    product = ProductFactory(price=Decimal("100.00"), stock=5)
    order = make_order(customer, product)
    wallet_part = pay_with_wallet(customer, order, amount="30.00", capture=False)
    order_cancel(order_id=order.pk, actor=customer, reason="changed my mind")
    wallet_part.refresh_from_db()
    assert wallet_part.status == "cancelled"
    assert wallet_figures(customer) == (Decimal("50.00"), Decimal("0.00"))
    assert wallet_drift() == []


def test_split_payment_pays_the_order_when_both_succeed(customer, finance):
    funded_wallet(customer, "50.00")
    product = ProductFactory(price=Decimal("100.00"), stock=5)
    order = make_order(customer, product)
    wallet_part = pay_with_wallet(customer, order, amount="30.00")
    order.refresh_from_db()
    assert (wallet_part.status, order.status) == ("completed", "pending")
    card = make_payment(customer, order, amount="70.00")
    payment_process(payment_id=card.pk, actor=customer, payment_method_id="tok_success")
    order.refresh_from_db()
    assert (order.status, order.amount_paid) == ("paid", Decimal("100.00"))
    assert wallet_figures(customer) == (Decimal("20.00"), Decimal("0.00"))


def test_refund_of_a_card_payment_to_store_credit(customer, finance, item):
    order = make_order(customer, item)
    card = make_payment(customer, order)
    payment_process(payment_id=card.pk, actor=customer, payment_method_id="tok_success")
    _, txn = payment_refund(
        payment_id=card.pk, actor=finance, reason="goodwill", destination="wallet"
    )
    card.refresh_from_db()
    assert (card.status, card.refunded_amount) == ("refunded", Decimal("30.00"))
    assert txn.status == "succeeded"
    assert txn.gateway_response["destination"] == "wallet"
    assert wallet_figures(customer) == (Decimal("30.00"), Decimal("0.00"))
    entry = WalletEntry.objects.get()
    assert (entry.entry_type, entry.actor, entry.payment_id) == ("credit", finance, card.pk)
    assert not Transaction.objects.filter(status="pending").exists()


def test_only_finance_refunds_to_store_credit(customer, item):
    order = make_order(customer, item)
    card = make_payment(customer, order)
    payment_process(payment_id=card.pk, actor=customer, payment_method_id="tok_success")
    with pytest.raises(Exception, match="Only Finance"):
        payment_refund(payment_id=card.pk, actor=customer, reason="x", destination="wallet")
    assert not Wallet.objects.exists()


def test_an_expired_hold_fails_the_attempt_once(customer, item, use_broker):
    funded_wallet(customer, "50.00")
    order = make_order(customer, item)
    payment = make_payment(customer, order, method="wallet")
    use_broker("memory://")  # the worker never runs: the hold is placed by hand below
    payment_process(payment_id=payment.pk, actor=customer)
    txn = Transaction.objects.get(payment=payment)
    result = get_gateway("wallet").charge(
        token="",
        amount=txn.amount,
        currency="PEN",
        capture=True,
        idempotency_key=txn.idempotency_key,
        metadata={"payment_id": payment.pk, "order_id": order.pk},
        customer=customer,
    )
    assert result.status == "succeeded"
    assert wallet_expire_holds() == 0  # not due yet
    WalletHold.objects.update(expires_at="2020-01-01T00:00:00Z")
    assert wallet_expire_holds() == 1
    assert wallet_expire_holds() == 0
    payment.refresh_from_db()
    assert (payment.status, payment.failure_code) == ("failed", "hold_expired")
    hold = WalletHold.objects.get()
    assert hold.status == "expired"
    assert wallet_figures(customer) == (Decimal("50.00"), Decimal("0.00"))
    # The entry says why the credit came back; the failed row names the hold.
    expire = WalletEntry.objects.get(entry_type="expire")
    assert expire.reason == (
        f"payment {payment.pk} charge: hold expired, the payment was not settled in time"
    )
    txn.refresh_from_db()
    assert (txn.status, txn.gateway_transaction_id) == ("failed", hold_reference(hold))
    # The worker's success arriving late changes nothing.
    payment_apply_gateway_result(transaction_id=txn.pk, result=result)
    payment.refresh_from_db()
    assert payment.status == "failed"
    assert entry_types(customer) == [
        ("credit", Decimal("50.00")),
        ("hold", Decimal("30.00")),
        ("expire", Decimal("30.00")),
    ]
    assert wallet_drift() == []


@pytest.mark.parametrize(("kind", "amount"), [("capture", "30.00"), ("void", "30.00")])
def test_finance_cannot_record_an_offline_row_past_the_wallet(
    api, customer, finance, item, kind, amount
):
    # An offline capture would mark the order paid and debit nothing; an offline void would
    # cancel the payment and leave the hold for good.
    funded_wallet(customer, "50.00")
    order = make_order(customer, item)
    payment = pay_with_wallet(customer, order, capture=False)
    assert wallet_figures(customer) == (Decimal("50.00"), Decimal("30.00"))
    response = api(finance).post(
        "/api/v1/transactions",
        {"payment_id": payment.pk, "transaction_type": kind, "amount": amount, "reason": "x"},
        format="json",
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert "payment_id" in error["details"]
    payment.refresh_from_db()
    order.refresh_from_db()
    assert (payment.status, order.status) == ("authorized", "pending")
    assert wallet_figures(customer) == (Decimal("50.00"), Decimal("30.00"))
    assert wallet_drift() == []


def test_a_second_wallet_part_does_not_follow_finances_capture_of_the_first(
    customer, finance, item
):
    funded_wallet(customer, "50.00")
    order = make_order(customer, ProductFactory(price=Decimal("40.00"), stock=5))
    first = pay_with_wallet(customer, order, amount="20.00", capture=False)
    payment_capture(payment_id=first.pk, actor=finance)
    second = pay_with_wallet(customer, order, amount="20.00", capture=False)
    assert second.status == "authorized"  # wallet parts alone wait for Finance
    assert wallet_figures(customer) == (Decimal("30.00"), Decimal("20.00"))
    assert wallet_drift() == []

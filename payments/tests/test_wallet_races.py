"""Races on store credit with real threads and PostgreSQL connections."""

from collections import Counter
from decimal import Decimal

import pytest

from orders.tests.factories import ProductFactory
from payments.gateways.registry import get_gateway
from payments.models import Payment
from payments.services import (
    payment_apply_gateway_result,
    payment_process,
    payment_refund,
    wallet_expire_holds,
)
from tests.helpers import make_order, make_paid, make_payment
from tests.threads import outcome, run_concurrently
from transactions.models import Transaction
from wallets.models import Wallet, WalletEntry, WalletHold
from wallets.monitoring import WALLET_CONFLICTS
from wallets.selectors import wallet_drift
from wallets.tests.factories import funded_wallet

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_fifty_wallet_payments_of_ten_against_one_hundred(customer, settings):
    settings.ORDER_MAX_PENDING_PER_USER = 100
    settings.PAYMENT_MAX_FAILED_ATTEMPTS_PER_HOUR = 100
    wallet = funded_wallet(customer, "100.00")
    product = ProductFactory(price=Decimal("10.00"), stock=100)
    payments = [
        make_payment(customer, make_order(customer, product), method="wallet") for _ in range(50)
    ]
    conflicts_before = WALLET_CONFLICTS._value.get()

    results = run_concurrently(
        50, lambda i: payment_process(payment_id=payments[i].pk, actor=customer)
    )

    assert Counter(outcome(r) for r in results) == {"ok": 50}
    statuses = Counter(
        Payment.objects.filter(pk__in=[p.pk for p in payments]).values_list(
            "status", "failure_code"
        )
    )
    assert statuses == {("completed", ""): 10, ("failed", "insufficient_funds"): 40}
    wallet.refresh_from_db()
    assert (wallet.balance, wallet.held) == (Decimal("0.00"), Decimal("0.00"))
    # No figure was ever negative or above the balance: every entry records one version.
    entries = WalletEntry.objects.filter(wallet=wallet).order_by("version")
    assert [e.version for e in entries] == list(range(1, wallet.version + 1))
    assert all(0 <= e.held_after <= e.balance_after for e in entries)
    assert entries.filter(entry_type="debit").count() == 10
    assert WalletHold.objects.filter(status="deducted").count() == 10
    assert WalletHold.objects.exclude(status="deducted").count() == 0
    assert WALLET_CONFLICTS._value.get() > conflicts_before  # races were lost and retried
    assert wallet_drift() == []


@pytest.mark.parametrize("round_", range(3))
def test_expiry_and_a_late_success_at_the_same_moment_settle_once(customer, use_broker, round_):
    funded_wallet(customer, "50.00")
    order = make_order(customer, ProductFactory(price=Decimal("30.00"), stock=5))
    payment = make_payment(customer, order, method="wallet")
    use_broker("memory://")  # the worker's call is made by hand, to hold its answer back
    payment_process(payment_id=payment.pk, actor=customer)
    txn = Transaction.objects.get(payment=payment)
    success = get_gateway("wallet").charge(
        token="",
        amount=txn.amount,
        currency="PEN",
        capture=True,
        idempotency_key=txn.idempotency_key,
        metadata={"payment_id": payment.pk, "order_id": order.pk},
        customer=customer,
    )
    WalletHold.objects.update(expires_at="2020-01-01T00:00:00Z")

    work = [
        lambda: wallet_expire_holds(),
        lambda: payment_apply_gateway_result(transaction_id=txn.pk, result=success),
    ]
    results = run_concurrently(2, lambda i: work[i]())

    assert [outcome(r) for r in results] == ["ok", "ok"]
    payment.refresh_from_db()
    hold = WalletHold.objects.get()
    wallet = Wallet.objects.get(user=customer)
    settled = list(
        WalletEntry.objects.exclude(entry_type__in=["credit", "hold"]).values_list(
            "entry_type", flat=True
        )
    )
    if payment.status == "completed":  # the success won
        assert (hold.status, settled) == ("deducted", ["debit"])
        assert (wallet.balance, wallet.held) == (Decimal("20.00"), Decimal("0.00"))
        assert Transaction.objects.get(pk=txn.pk).status == "succeeded"
    else:  # the expiry won
        assert (payment.status, payment.failure_code) == ("failed", "hold_expired")
        assert (hold.status, settled) == ("expired", ["expire"])
        assert (wallet.balance, wallet.held) == (Decimal("50.00"), Decimal("0.00"))
        assert Transaction.objects.get(pk=txn.pk).status == "failed"
    assert wallet_drift() == []


def test_refunds_to_a_busy_wallet_answer_wallet_busy_and_write_nothing(customer, finance, settings):
    settings.WALLET_MAX_RETRIES = 0  # one try: a lost race is at once a WALLET_BUSY
    settings.ORDER_MAX_PENDING_PER_USER = 100
    funded_wallet(customer, "1.00")
    product = ProductFactory(price=Decimal("10.00"), stock=100)
    paid = [make_paid(customer, product)[1] for _ in range(12)]

    results = run_concurrently(
        12,
        lambda i: payment_refund(
            payment_id=paid[i].pk, actor=finance, reason=f"race {i}", destination="wallet"
        ),
    )

    counts = Counter(outcome(r) for r in results)
    assert set(counts) <= {"ok", "WALLET_BUSY"}
    assert counts["WALLET_BUSY"] > 0  # the races happened (typically 10 of the 12)
    busy = [p for p, r in zip(paid, results, strict=True) if outcome(r) == "WALLET_BUSY"]
    # A busy refund rolled back whole: no ledger row, no credit, the payment untouched.
    for payment in busy:
        payment.refresh_from_db()
        assert (payment.status, payment.refunded_amount) == ("completed", Decimal("0.00"))
        assert not Transaction.objects.filter(payment=payment, transaction_type="refund").exists()
    wallet = Wallet.objects.get(user=customer)
    assert wallet.balance == Decimal("1.00") + 10 * counts["ok"]
    assert Transaction.objects.filter(transaction_type="refund").count() == counts["ok"]
    assert wallet_drift() == []

"""A Hypothesis state machine over credit, hold, deduct, release, expire and refund."""

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from gamarriando.errors import InsufficientFunds
from tests.factories import UserFactory
from wallets import services
from wallets.models import Wallet
from wallets.selectors import wallet_drift

CENTS = st.integers(min_value=1, max_value=6000).map(lambda c: Decimal(c) / 100)


class WalletMachine(RuleBasedStateMachine):
    """Random histories of one wallet, checked against a model after every step."""

    @initialize(amount=CENTS)
    def setup(self, amount):
        self.user = UserFactory()
        services.wallet_credit(user=self.user, currency="PEN", amount=amount, reason="start")
        self.wallet = Wallet.objects.get(user=self.user)
        self.balance, self.held = amount, Decimal(0)
        self.holds: dict[int, Decimal] = {}  # open holds and their amounts
        self.settled: list[int] = []
        self.keys = 0

    def _key(self) -> str:
        self.keys += 1
        return f"sm-{self.user.pk}-{self.keys}"

    @rule(amount=CENTS)
    def credit(self, amount):
        services.wallet_credit(user=self.user, currency="PEN", amount=amount, reason="grant")
        self.balance += amount

    @rule(amount=CENTS)
    def refund_to_wallet(self, amount):
        key = self._key()
        for _ in range(2):  # a redelivered refund credits once
            services.wallet_credit(
                user=self.user,
                currency="PEN",
                amount=amount,
                reason="refund",
                payment_id=1,
                idempotency_key=key,
            )
        self.balance += amount

    @rule(amount=CENTS)
    def hold(self, amount):
        try:
            hold = services.wallet_hold_place(
                user=self.user, currency="PEN", amount=amount, idempotency_key=self._key()
            )
        except InsufficientFunds:
            assert amount > self.balance - self.held
            return
        assert amount <= self.balance - self.held
        self.holds[hold.pk] = amount
        self.held += amount

    @precondition(lambda self: self.holds)
    @rule(data=st.data(), part=st.integers(min_value=1, max_value=100))
    def deduct(self, data, part):
        hold_id = data.draw(st.sampled_from(sorted(self.holds)))
        amount = self.holds.pop(hold_id)
        self.settled.append(hold_id)
        spent = max(Decimal("0.01"), (amount * part / 100).quantize(Decimal("0.01")))
        services.wallet_hold_deduct(hold_id=hold_id, amount=min(spent, amount))
        self.balance -= min(spent, amount)
        self.held -= amount

    @precondition(lambda self: self.holds)
    @rule(data=st.data(), expired=st.booleans())
    def release_or_expire(self, data, expired):
        hold_id = data.draw(st.sampled_from(sorted(self.holds)))
        services.wallet_hold_release(hold_id=hold_id, expired=expired)
        self.held -= self.holds.pop(hold_id)
        self.settled.append(hold_id)

    @precondition(lambda self: self.settled)
    @rule(data=st.data())
    def settle_a_settled_hold_again(self, data):
        hold_id = data.draw(st.sampled_from(self.settled))
        with pytest.raises(services.HoldNotHeld):
            services.wallet_hold_deduct(hold_id=hold_id)
        with pytest.raises(services.HoldNotHeld):
            services.wallet_hold_release(hold_id=hold_id, expired=True)

    @invariant()
    def figures_match_the_model_and_the_entries(self):
        if not hasattr(self, "wallet"):
            return
        self.wallet.refresh_from_db()
        assert (self.wallet.balance, self.wallet.held) == (self.balance, self.held)
        assert 0 <= self.wallet.held <= self.wallet.balance
        assert wallet_drift() == []


@pytest.mark.django_db
def test_wallet_figures_equal_the_sum_of_entries_under_random_histories():
    run_state_machine_as_test(
        WalletMachine,
        settings=settings(
            max_examples=40,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )

"""Fifty real threads on PostgreSQL against one wallet: optimistic locking under fire."""

from collections import Counter
from decimal import Decimal

import pytest

from tests.threads import outcome, run_concurrently
from wallets import services
from wallets.models import Wallet
from wallets.selectors import wallet_drift
from wallets.tests.factories import funded_wallet

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_bounded_retries_answer_wallet_busy_and_lose_nothing(customer, settings):
    settings.WALLET_MAX_RETRIES = 0  # one try: every lost race is a WALLET_BUSY
    wallet = funded_wallet(customer, "1000.00")

    results = run_concurrently(
        30,
        lambda i: services.wallet_credit(
            user=customer, currency="PEN", amount=Decimal("1.00"), reason=f"race {i}"
        ),
    )

    counts = Counter(outcome(r) for r in results)
    assert set(counts) <= {"ok", "WALLET_BUSY"}
    assert counts["WALLET_BUSY"] > 0
    wallet.refresh_from_db()
    assert wallet.balance == Decimal("1000.00") + counts["ok"]
    assert Wallet.objects.count() == 1
    assert wallet_drift() == []

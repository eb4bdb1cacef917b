"""Fifty real threads on PostgreSQL against one wallet: optimistic locking under fire."""

import threading
from collections import Counter
from decimal import Decimal

import pytest
from django.db import connection

from gamarriando.errors import ApplicationError
from wallets import services
from wallets.models import Wallet
from wallets.selectors import wallet_drift
from wallets.tests.factories import funded_wallet

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_concurrently(count, work):
    """Start count threads at one barrier; return what each returned or raised."""
    barrier = threading.Barrier(count)
    results = [None] * count

    def runner(index):
        try:
            barrier.wait()
            results[index] = work(index)
        except Exception as exc:  # collected and asserted by the caller
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def outcome(result):
    if isinstance(result, ApplicationError):
        return result.code
    if isinstance(result, Exception):
        return f"unexpected {type(result).__name__}: {result}"
    return "ok"


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

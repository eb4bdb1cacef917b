"""Wallet writes: every move, its entries, exactly-once holds, and the optimistic retry."""

from decimal import Decimal

import pytest
from django.db.models import F

from gamarriando.errors import (
    InsufficientFunds,
    PermissionDeniedError,
    ValidationFailed,
    WalletBusy,
)
from gamarriando.events import OutboxEvent
from wallets import services
from wallets.models import HoldStatus, Wallet, WalletEntry
from wallets.monitoring import WALLET_CONFLICTS
from wallets.selectors import wallet_drift
from wallets.tests.factories import funded_wallet

pytestmark = pytest.mark.django_db


def figures(wallet):
    wallet.refresh_from_db()
    return wallet.balance, wallet.held, wallet.version


def test_credit_creates_the_wallet_and_an_entry(customer):
    wallet = funded_wallet(customer, "50.00")
    assert figures(wallet) == (Decimal("50.00"), Decimal("0"), 1)
    entry = WalletEntry.objects.get(wallet=wallet)
    assert (entry.entry_type, entry.amount, entry.balance_after, entry.held_after) == (
        "credit",
        Decimal("50.00"),
        Decimal("50.00"),
        Decimal("0.00"),
    )


def test_credit_with_a_key_happens_once(customer):
    first = services.wallet_credit(
        user=customer, currency="PEN", amount=Decimal("5"), reason="r", idempotency_key="k1"
    )
    again = services.wallet_credit(
        user=customer, currency="PEN", amount=Decimal("5"), reason="r", idempotency_key="k1"
    )
    assert first.pk == again.pk
    assert Wallet.objects.get(user=customer).balance == Decimal("5.00")


def test_hold_then_deduct_part_releases_the_rest(customer):
    wallet = funded_wallet(customer, "100.00")
    hold = services.wallet_hold_place(
        user=customer, currency="PEN", amount=Decimal("30.00"), idempotency_key="a1", payment_id=7
    )
    assert figures(wallet) == (Decimal("100.00"), Decimal("30.00"), 2)
    hold = services.wallet_hold_deduct(hold_id=hold.pk, amount=Decimal("20.00"))
    assert hold.status == HoldStatus.DEDUCTED
    assert hold.deducted_amount == Decimal("20.00")
    assert figures(wallet) == (Decimal("80.00"), Decimal("0.00"), 4)
    types = list(
        WalletEntry.objects.filter(wallet=wallet)
        .order_by("version")
        .values_list("entry_type", "amount", "balance_after", "held_after")
    )
    assert types == [
        ("credit", Decimal("100.00"), Decimal("100.00"), Decimal("0.00")),
        ("hold", Decimal("30.00"), Decimal("100.00"), Decimal("30.00")),
        ("debit", Decimal("20.00"), Decimal("80.00"), Decimal("10.00")),
        ("release", Decimal("10.00"), Decimal("80.00"), Decimal("0.00")),
    ]
    assert wallet_drift() == []
    published = set(OutboxEvent.objects.values_list("type", flat=True))
    assert {"wallet.funds_reserved", "wallet.funds_deducted"} <= published


def test_the_same_key_places_one_hold(customer):
    wallet = funded_wallet(customer, "100.00")
    first = services.wallet_hold_place(
        user=customer, currency="PEN", amount=Decimal("30"), idempotency_key="same"
    )
    again = services.wallet_hold_place(
        user=customer, currency="PEN", amount=Decimal("30"), idempotency_key="same"
    )
    assert first.pk == again.pk
    assert figures(wallet)[1] == Decimal("30.00")


def test_a_hold_above_available_fails_and_says_so(customer):
    wallet = funded_wallet(customer, "20.00")
    services.wallet_hold_place(
        user=customer, currency="PEN", amount=Decimal("15"), idempotency_key="h1"
    )
    with pytest.raises(InsufficientFunds) as caught:
        services.wallet_hold_place(
            user=customer, currency="PEN", amount=Decimal("10"), idempotency_key="h2"
        )
    assert caught.value.details == {"available": "5.00"}
    assert figures(wallet) == (Decimal("20.00"), Decimal("15.00"), 2)
    assert OutboxEvent.objects.filter(type="wallet.reservation_failed").count() == 1


def test_no_wallet_means_insufficient_funds(customer):
    with pytest.raises(InsufficientFunds):
        services.wallet_hold_place(
            user=customer, currency="USD", amount=Decimal("1"), idempotency_key="none"
        )
    assert not Wallet.objects.exists()


def test_a_hold_settles_once(customer):
    wallet = funded_wallet(customer, "100.00")
    hold = services.wallet_hold_place(
        user=customer, currency="PEN", amount=Decimal("40"), idempotency_key="once"
    )
    services.wallet_hold_release(hold_id=hold.pk, expired=True)
    with pytest.raises(services.HoldNotHeld):
        services.wallet_hold_deduct(hold_id=hold.pk)
    with pytest.raises(services.HoldNotHeld):
        services.wallet_hold_release(hold_id=hold.pk)
    assert figures(wallet) == (Decimal("100.00"), Decimal("0.00"), 3)
    assert WalletEntry.objects.filter(entry_type="expire").count() == 1
    assert WalletEntry.objects.filter(entry_type__in=["debit", "release"]).count() == 0


def test_a_lost_race_is_retried_against_the_new_version(customer):
    wallet = funded_wallet(customer, "100.00")
    before = WALLET_CONFLICTS._value.get()
    calls = []

    def moves_for(current):
        calls.append(current.version)
        if len(calls) == 1:  # another writer commits between our read and our swap
            Wallet.objects.filter(pk=wallet.pk).update(version=F("version") + 1)
            WalletEntry.objects.create(
                wallet=wallet,
                entry_type="credit",
                amount=Decimal("1"),
                balance_after=Decimal("100"),
                held_after=0,
                version=2,
            )
        return [services.move("hold", Decimal("10"))]

    services.apply_moves(wallet.pk, moves_for)
    assert calls == [1, 2]
    assert WALLET_CONFLICTS._value.get() == before + 1
    assert figures(wallet) == (Decimal("100.00"), Decimal("10.00"), 3)


def test_a_wallet_that_never_stops_changing_answers_busy(customer, settings):
    settings.WALLET_MAX_RETRIES = 2
    wallet = funded_wallet(customer, "100.00")

    def moves_for(current):
        Wallet.objects.filter(pk=wallet.pk).update(version=F("version") + 1)
        return [services.move("hold", Decimal("10"))]

    with pytest.raises(WalletBusy):
        services.apply_moves(wallet.pk, moves_for)
    wallet.refresh_from_db()
    assert wallet.held == Decimal("0.00")
    assert WalletEntry.objects.filter(entry_type="hold").count() == 0


def test_adjust_needs_the_permission_and_a_reason(customer, finance, support):
    wallet = funded_wallet(customer, "10.00")
    with pytest.raises(PermissionDeniedError):
        services.wallet_adjust(wallet_id=wallet.pk, amount=Decimal("5"), reason="x", actor=support)
    with pytest.raises(ValidationFailed):
        services.wallet_adjust(wallet_id=wallet.pk, amount=Decimal("5"), reason=" ", actor=finance)
    services.wallet_adjust(
        wallet_id=wallet.pk, amount=Decimal("5"), reason="goodwill", actor=finance
    )
    services.wallet_adjust(
        wallet_id=wallet.pk, amount=Decimal("-12"), reason="error", actor=finance
    )
    with pytest.raises(InsufficientFunds):
        services.wallet_adjust(
            wallet_id=wallet.pk, amount=Decimal("-4"), reason="too much", actor=finance
        )
    assert figures(wallet) == (Decimal("3.00"), Decimal("0.00"), 3)
    last = WalletEntry.objects.filter(wallet=wallet).order_by("-version").first()
    assert (last.entry_type, last.actor, last.reason) == ("debit", finance, "adjustment: error")
    assert wallet_drift() == []


def test_removing_credit_cannot_touch_held_funds(customer, finance):
    wallet = funded_wallet(customer, "10.00")
    services.wallet_hold_place(
        user=customer, currency="PEN", amount=Decimal("8"), idempotency_key="held"
    )
    with pytest.raises(InsufficientFunds):
        services.wallet_adjust(wallet_id=wallet.pk, amount=Decimal("-3"), reason="r", actor=finance)
    assert figures(wallet) == (Decimal("10.00"), Decimal("8.00"), 2)


def test_entries_are_append_only(customer):
    funded_wallet(customer, "10.00")
    entry = WalletEntry.objects.get()
    entry.reason = "changed"
    with pytest.raises(Exception, match="never changed"):
        entry.save()
    with pytest.raises(Exception, match="never deleted"):
        entry.delete()


def test_a_credit_past_the_most_a_wallet_holds_is_refused_not_overflowed(customer, finance):
    wallet = funded_wallet(customer, "9999999999.00")
    with pytest.raises(ValidationFailed) as refused:
        services.wallet_grant(
            user=customer, currency="PEN", amount=Decimal("1.00"), reason="goodwill", actor=finance
        )
    assert refused.value.details == {"amount": ["A wallet holds at most 9999999999.99."]}
    assert figures(wallet) == (Decimal("9999999999.00"), Decimal("0"), 1)
    services.wallet_grant(
        user=customer, currency="PEN", amount=Decimal("0.99"), reason="goodwill", actor=finance
    )
    assert figures(wallet)[0] == Decimal("9999999999.99")

"""Every write to a wallet: credit, hold, deduct, release, expire, adjust.

Each change is one compare-and-swap, `UPDATE wallet SET ..., version = version + n WHERE id =
... AND version = ...`, with its entries written in the same savepoint; a lost race re-reads
and tries again, at most WALLET_MAX_RETRIES times, then raises WalletBusy (409). Wallet rows
are never locked with SELECT ... FOR UPDATE: this is the one optimistic writer in the system.
"""

import random
import time
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from gamarriando import events, money
from gamarriando.errors import InsufficientFunds, PermissionDeniedError, WalletBusy, field_error
from gamarriando.event_types import EventType
from gamarriando.logging import get_logger
from wallets.models import ENTRY_EFFECTS, EntryType, HoldStatus, Wallet, WalletEntry, WalletHold
from wallets.monitoring import WALLET_CONFLICTS, WALLET_HOLDS_EXPIRED

logger = get_logger(__name__)
ADJUST_PERMISSION = "wallets.adjust_wallet"


@dataclass(frozen=True)
class Move:
    """One entry to write: its type, amount and what it does to (balance, held)."""

    entry_type: str
    amount: Decimal
    balance_delta: Decimal
    held_delta: Decimal


def move(entry_type: str, amount: Decimal, *, from_hold: bool = True) -> Move:
    """Build a move from the entry type's effect; a debit outside a hold leaves `held` alone."""
    balance_sign, held_sign = ENTRY_EFFECTS[entry_type]
    if entry_type == EntryType.DEBIT and not from_hold:
        held_sign = 0
    return Move(entry_type, amount, balance_sign * amount, held_sign * amount)


class _LostRace(Exception):
    """The wallet's version moved between the read and the swap; roll back and re-read."""


class HoldNotHeld(Exception):
    """The hold was already settled (deducted, released or expired) by someone else."""


BACKOFF_SECONDS = 0.01


def _pause(attempt: int) -> None:
    # Full-jitter exponential backoff: retrying at once collides with the same writers again.
    time.sleep(random.uniform(0, BACKOFF_SECONDS * (2**attempt)))


def _is_held(hold: WalletHold) -> bool:
    return WalletHold.objects.filter(pk=hold.pk, status=HoldStatus.HELD).exists()


def apply_moves(
    wallet_id: int,
    moves_for,
    *,
    reason: str = "",
    actor=None,
    hold: WalletHold | None = None,
    hold_status: str | None = None,
    payment_id: int | None = None,
    order_id: int | None = None,
    idempotency_key: str | None = None,
) -> tuple[Wallet, list[WalletEntry]]:
    """Apply the moves `moves_for(wallet)` returns with one compare-and-swap; retry lost races.

    When `hold_status` is given, the hold moves from `held` to it in the same savepoint, so
    that a hold is settled exactly once whoever else tries at the same moment.

    Raises:
        HoldNotHeld: the hold was settled by someone else first.
        InsufficientFunds: `moves_for` found the wallet short (raised by it).
        WalletBusy: every attempt lost its race.
    """
    for attempt in range(settings.WALLET_MAX_RETRIES + 1):
        if attempt:
            WALLET_CONFLICTS.inc()
            _pause(attempt)
        wallet = Wallet.objects.get(pk=wallet_id)
        # Read after the wallet: a hold settled in between shows here, not as a short wallet.
        if hold_status is not None and not _is_held(hold):
            raise HoldNotHeld(f"hold {hold.pk} is no longer held")
        moves = moves_for(wallet)
        balance = wallet.balance + sum((m.balance_delta for m in moves), Decimal(0))
        held = wallet.held + sum((m.held_delta for m in moves), Decimal(0))
        if balance < 0 or held < 0 or held > balance:
            raise InsufficientFunds(
                "The wallet does not hold enough store credit.",
                details={"available": money.format_amount(wallet.available, wallet.currency)},
            )
        now = timezone.now()
        try:
            with transaction.atomic():
                if hold is not None and hold_status is not None:
                    settled = WalletHold.objects.filter(pk=hold.pk, status=HoldStatus.HELD).update(
                        status=hold_status,
                        settled_at=now,
                        deducted_amount=sum(
                            (m.amount for m in moves if m.entry_type == EntryType.DEBIT),
                            Decimal(0),
                        ),
                    )
                    if not settled:
                        raise HoldNotHeld(f"hold {hold.pk} is no longer held")
                swapped = Wallet.objects.filter(pk=wallet.pk, version=wallet.version).update(
                    balance=balance,
                    held=held,
                    version=F("version") + len(moves),
                    updated_at=now,
                )
                if not swapped:
                    raise _LostRace
                entries = []
                running_balance, running_held = wallet.balance, wallet.held
                for number, m in enumerate(moves, start=1):
                    running_balance += m.balance_delta
                    running_held += m.held_delta
                    entries.append(
                        WalletEntry.objects.create(
                            wallet=wallet,
                            entry_type=m.entry_type,
                            amount=m.amount,
                            balance_after=running_balance,
                            held_after=running_held,
                            version=wallet.version + number,
                            reason=reason[:255],
                            hold=hold,
                            payment_id=payment_id,
                            order_id=order_id,
                            idempotency_key=idempotency_key if number == 1 else None,
                            actor=actor,
                            created_at=now,
                        )
                    )
        except _LostRace:
            continue
        wallet.balance, wallet.held = balance, held
        wallet.version += len(moves)
        return wallet, entries
    logger.warning("wallet_busy", wallet_id=wallet_id, attempts=settings.WALLET_MAX_RETRIES + 1)
    raise WalletBusy(details={"wallet_id": wallet_id})


def wallet_get_or_create(*, user, currency: str) -> Wallet:
    """Return the user's wallet in a currency, creating it empty on first use."""
    wallet = Wallet.objects.filter(user=user, currency=currency).first()
    if wallet is not None:
        return wallet
    try:
        with transaction.atomic():
            return Wallet.objects.create(user=user, currency=currency)
    except IntegrityError:  # created by a concurrent first credit
        return Wallet.objects.get(user=user, currency=currency)


def _event_data(wallet: Wallet, **extra) -> dict:
    return {
        "wallet_id": wallet.pk,
        "user_id": wallet.user_id,
        "currency": wallet.currency,
        "balance": money.format_amount(wallet.balance, wallet.currency),
        "held": money.format_amount(wallet.held, wallet.currency),
        "available": money.format_amount(wallet.available, wallet.currency),
        **{
            k: money.format_amount(v, wallet.currency) if isinstance(v, Decimal) else v
            for k, v in extra.items()
        },
    }


def wallet_credit(
    *,
    user,
    currency: str,
    amount: Decimal,
    reason: str,
    actor=None,
    payment_id: int | None = None,
    order_id: int | None = None,
    idempotency_key: str | None = None,
) -> WalletEntry:
    """Add store credit; with an idempotency key, a repeated call returns the first entry.

    Raises:
        WalletBusy: the wallet kept changing under the credit.
    """
    if idempotency_key:
        done = WalletEntry.objects.filter(idempotency_key=idempotency_key).first()
        if done is not None:
            return done
    wallet = wallet_get_or_create(user=user, currency=currency)
    try:
        with transaction.atomic():
            _, entries = apply_moves(
                wallet.pk,
                lambda w: [move(EntryType.CREDIT, amount)],
                reason=reason,
                actor=actor,
                payment_id=payment_id,
                order_id=order_id,
                idempotency_key=idempotency_key,
            )
    except IntegrityError:
        if idempotency_key:  # the same credit, applied concurrently by another worker
            return WalletEntry.objects.get(idempotency_key=idempotency_key)
        raise
    return entries[0]


def wallet_adjust(*, wallet_id: int, amount: Decimal, reason: str, actor) -> WalletEntry:
    """Grant (amount > 0) or remove (amount < 0) store credit by hand, with a reason.

    Raises:
        PermissionDeniedError: the actor lacks wallets.adjust_wallet.
        ValidationFailed: no reason, a zero amount, or too many decimals.
        InsufficientFunds: removing more than is available (held funds stay).
        WalletBusy: the wallet kept changing under the adjustment.
    """
    if not actor.has_perm(ADJUST_PERMISSION):
        raise PermissionDeniedError("Only Finance may adjust store credit.")
    if not reason.strip():
        raise field_error("reason", "A reason is required.")
    wallet = Wallet.objects.get(pk=wallet_id)
    try:
        money.check_scale(abs(amount), wallet.currency)
    except money.MoneyError as exc:
        raise field_error("amount", str(exc)) from exc
    if amount == 0:
        raise field_error("amount", "The amount must not be zero.")
    the_move = (
        move(EntryType.CREDIT, amount)
        if amount > 0
        else move(EntryType.DEBIT, -amount, from_hold=False)
    )
    _, entries = apply_moves(
        wallet.pk, lambda w: [the_move], reason=f"adjustment: {reason}", actor=actor
    )
    logger.info("wallet_adjusted", wallet_id=wallet.pk, amount=str(amount), actor_id=actor.pk)
    return entries[0]


def wallet_hold_place(
    *,
    user,
    currency: str,
    amount: Decimal,
    idempotency_key: str,
    payment_id: int | None = None,
    order_id: int | None = None,
) -> WalletHold:
    """Reserve funds for one payment attempt; the same key returns the same hold.

    Raises:
        InsufficientFunds: `available` is short (wallet.reservation_failed is published).
        WalletBusy: the wallet kept changing under the hold.
    """
    existing = WalletHold.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return existing
    wallet = Wallet.objects.filter(user=user, currency=currency).first()
    try:
        if wallet is None:
            raise InsufficientFunds(
                "The wallet does not hold enough store credit.",
                details={"available": money.format_amount(Decimal(0), currency)},
            )
        with transaction.atomic():
            hold = WalletHold.objects.create(
                wallet=wallet,
                idempotency_key=idempotency_key,
                payment_id=payment_id,
                order_id=order_id,
                amount=amount,
                expires_at=timezone.now() + timedelta(minutes=settings.WALLET_HOLD_TTL_MINUTES),
            )
            wallet, _ = apply_moves(
                wallet.pk,
                lambda w: [move(EntryType.HOLD, amount)],
                reason=f"hold for payment {payment_id}",
                hold=hold,
                payment_id=payment_id,
                order_id=order_id,
            )
            events.publish(
                EventType.WALLET_FUNDS_RESERVED,
                _event_data(wallet, hold_id=hold.pk, amount=amount, payment_id=payment_id),
                order_id=order_id,
            )
    except InsufficientFunds:
        with transaction.atomic():
            data = {
                "wallet_id": wallet.pk if wallet else None,
                "user_id": user.pk,
                "currency": currency,
                "amount": money.format_amount(amount, currency),
                "payment_id": payment_id,
            }
            events.publish(EventType.WALLET_RESERVATION_FAILED, data, order_id=order_id)
        raise
    except IntegrityError:  # the same attempt placed its hold concurrently
        return WalletHold.objects.get(idempotency_key=idempotency_key)
    return hold


def wallet_hold_deduct(
    *, hold_id: int, amount: Decimal | None = None, actor=None, reason: str = ""
) -> WalletHold:
    """Spend all or part of a hold and release the rest, once.

    Raises:
        HoldNotHeld: the hold was already released, expired or deducted.
        WalletBusy: the wallet kept changing under the deduction.
    """
    hold = WalletHold.objects.get(pk=hold_id)
    amount = hold.amount if amount is None else amount
    moves = [move(EntryType.DEBIT, amount)]
    if amount < hold.amount:
        moves.append(move(EntryType.RELEASE, hold.amount - amount))
    with transaction.atomic():
        wallet, _ = apply_moves(
            hold.wallet_id,
            lambda w: moves,
            reason=reason or f"payment {hold.payment_id}",
            actor=actor,
            hold=hold,
            hold_status=HoldStatus.DEDUCTED,
            payment_id=hold.payment_id,
            order_id=hold.order_id,
        )
        events.publish(
            EventType.WALLET_FUNDS_DEDUCTED,
            _event_data(wallet, hold_id=hold.pk, amount=amount, payment_id=hold.payment_id),
            order_id=hold.order_id,
        )
    hold.refresh_from_db()
    return hold


def wallet_hold_release(
    *, hold_id: int, expired: bool = False, actor=None, reason: str = ""
) -> WalletHold:
    """Give a hold's funds back (released, or expired when its time ran out), once.

    Raises:
        HoldNotHeld: the hold was already released, expired or deducted.
        WalletBusy: the wallet kept changing under the release.
    """
    hold = WalletHold.objects.get(pk=hold_id)
    entry_type = EntryType.EXPIRE if expired else EntryType.RELEASE
    with transaction.atomic():
        wallet, _ = apply_moves(
            hold.wallet_id,
            lambda w: [move(entry_type, hold.amount)],
            reason=reason or ("hold expired" if expired else f"payment {hold.payment_id}"),
            actor=actor,
            hold=hold,
            hold_status=HoldStatus.EXPIRED if expired else HoldStatus.RELEASED,
            payment_id=hold.payment_id,
            order_id=hold.order_id,
        )
        events.publish(
            EventType.WALLET_FUNDS_RELEASED,
            _event_data(
                wallet,
                hold_id=hold.pk,
                amount=hold.amount,
                payment_id=hold.payment_id,
                expired=expired,
            ),
            order_id=hold.order_id,
        )
    if expired:
        WALLET_HOLDS_EXPIRED.inc()
    hold.refresh_from_db()
    return hold

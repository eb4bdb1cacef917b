"""Optimistic locking of wallets: one compare-and-swap per change, retried on a lost race.

Each change is `UPDATE wallet SET ..., version = version + n WHERE id = ... AND version = ...`,
with its entries written in the same savepoint; a lost race re-reads and tries again, at most
WALLET_MAX_RETRIES times, then raises WalletBusy (409). Wallet rows are never locked with
SELECT ... FOR UPDATE: this is the one optimistic writer in the system.
"""

import random
import time
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from gamarriando import money
from gamarriando.errors import InsufficientFunds, WalletBusy, field_error
from gamarriando.logging import get_logger
from wallets.models import (
    ENTRY_EFFECTS,
    MAX_BALANCE,
    EntryType,
    HoldStatus,
    Wallet,
    WalletEntry,
    WalletHold,
)
from wallets.monitoring import WALLET_CONFLICTS

logger = get_logger(__name__)


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
        ValidationFailed: the balance would pass what a wallet can hold (MAX_BALANCE).
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
        if balance > MAX_BALANCE:  # refused here, not as the column's overflow (a 500)
            raise field_error("amount", f"A wallet holds at most {MAX_BALANCE}.")
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

"""Every write to a wallet: credit, hold, deduct, release, expire, adjust, grant.

Each one is a single compare-and-swap through `wallets.optimistic.apply_moves`, which retries
a lost race and finally raises WalletBusy (409 WALLET_BUSY).
"""

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from gamarriando import events, money
from gamarriando.errors import InsufficientFunds, PermissionDeniedError, field_error
from gamarriando.event_types import EventType
from gamarriando.logging import get_logger
from wallets.models import EntryType, HoldStatus, Wallet, WalletEntry, WalletHold
from wallets.monitoring import WALLET_HOLDS_EXPIRED

# HoldNotHeld is re-exported: callers settle holds through this module only.
from wallets.optimistic import HoldNotHeld, apply_moves, move  # noqa: F401

logger = get_logger(__name__)
ADJUST_PERMISSION = "wallets.adjust_wallet"


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


def check_adjustment(*, actor, owner, reason: str, amount: Decimal, currency: str) -> None:
    """Refuse a hand-made change of credit without the right, a reason or a valid amount.

    Raises:
        PermissionDeniedError: the actor lacks wallets.adjust_wallet, or the wallet is theirs.
        ValidationFailed: no reason, a zero amount, too many decimals, or a staff account.
    """
    if not actor.has_perm(ADJUST_PERMISSION):
        raise PermissionDeniedError("Only Finance may adjust store credit.")
    if owner.pk == actor.pk:
        raise PermissionDeniedError("Nobody may change their own store credit.")
    if owner.is_staff:
        raise field_error("email", "Store credit is for customer accounts, not staff ones.")
    if not reason.strip():
        raise field_error("reason", "A reason is required.")
    try:
        money.check_scale(abs(amount), currency)
    except money.MoneyError as exc:
        raise field_error("amount", str(exc)) from exc
    if amount == 0:
        raise field_error("amount", "The amount must not be zero.")


def wallet_adjust(*, wallet_id: int, amount: Decimal, reason: str, actor) -> WalletEntry:
    """Grant (amount > 0) or remove (amount < 0) store credit by hand, with a reason.

    Raises:
        PermissionDeniedError: the actor lacks wallets.adjust_wallet, or the wallet is theirs.
        ValidationFailed: no reason, a zero amount, too many decimals, or a staff account.
        InsufficientFunds: removing more than is available (held funds stay).
        WalletBusy: the wallet kept changing under the adjustment.
    """
    wallet = Wallet.objects.select_related("user").get(pk=wallet_id)
    check_adjustment(
        actor=actor, owner=wallet.user, reason=reason, amount=amount, currency=wallet.currency
    )
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


def wallet_grant(*, user, currency: str, amount: Decimal, reason: str, actor) -> WalletEntry:
    """Grant store credit by hand (goodwill); a customer with none in the currency gets a wallet.

    Raises:
        PermissionDeniedError: the actor lacks wallets.adjust_wallet, or grants to themselves.
        ValidationFailed: no reason, an amount not above zero, too many decimals, or a staff
            account.
        WalletBusy: the wallet kept changing under the credit.
    """
    check_adjustment(actor=actor, owner=user, reason=reason, amount=amount, currency=currency)
    if amount < 0:
        raise field_error("amount", "A grant adds credit: the amount must be above zero.")
    # The wallet is made with its first credit, in one step: never an empty one on its own.
    entry = wallet_credit(
        user=user, currency=currency, amount=amount, reason=f"adjustment: {reason}", actor=actor
    )
    logger.info("wallet_granted", wallet_id=entry.wallet_id, amount=str(amount), actor_id=actor.pk)
    return entry


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

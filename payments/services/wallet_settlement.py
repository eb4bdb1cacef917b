"""Store-credit payments: move the hold with the ledger row, expire forgotten holds.

A wallet charge places its hold in the worker's call; this module deducts or releases that
hold inside the transaction that settles the ledger row, so the two never disagree. A hold
whose attempt outlives WALLET_HOLD_TTL_MINUTES is failed through the same settlement
(wallet_expiry).
"""

from dataclasses import replace

from gamarriando.errors import WalletBusy
from gamarriando.logging import get_logger
from payments.gateways.base import FailureCode, GatewayResult, GatewayStatus, GatewayUnavailable
from payments.gateways.wallet import EXPIRED_MESSAGE, WALLET, hold_from_reference
from payments.models import Payment
from transactions.models import ATTEMPT_TYPES, Transaction, TransactionType
from wallets import selectors as wallet_selectors
from wallets import services as wallet_services
from wallets.models import HoldStatus
from wallets.services import HoldNotHeld

logger = get_logger(__name__)


def _expired(result: GatewayResult) -> GatewayResult:
    return replace(
        result,
        status=GatewayStatus.FAILED,
        failure_code=FailureCode.HOLD_EXPIRED,
        failure_message=EXPIRED_MESSAGE,
    )


def wallet_settle_hold(payment: Payment, txn: Transaction, result: GatewayResult) -> GatewayResult:
    """Deduct or release a locked wallet payment's hold as its ledger row settles.

    Returns the result to record: a success whose hold is gone (expired first) becomes a failure.

    Raises:
        GatewayUnavailable: the wallet stayed busy; the caller's task retries the settlement.
    """
    if payment.payment_method != WALLET or result.status not in (
        GatewayStatus.SUCCEEDED,
        GatewayStatus.FAILED,
    ):
        return result
    kind = txn.transaction_type
    if kind in ATTEMPT_TYPES:
        hold = wallet_selectors.hold_for_key(txn.idempotency_key or "")
    elif kind in (TransactionType.CAPTURE, TransactionType.VOID):
        hold = hold_from_reference(payment.gateway_transaction_id)
    else:
        return result  # refunds: the gateway call itself credited the wallet
    if hold is None:
        return result
    reason = f"payment {payment.pk} {kind}"
    try:
        if result.status == GatewayStatus.FAILED:
            if hold.status == HoldStatus.HELD and kind in ATTEMPT_TYPES:
                expired = result.failure_code == FailureCode.HOLD_EXPIRED
                if expired:  # what the customer and the clerk read on the entry
                    reason = f"{reason}: hold expired, the payment was not settled in time"
                wallet_services.wallet_hold_release(hold_id=hold.pk, expired=expired, reason=reason)
            return result
        if kind == TransactionType.CHARGE:
            wallet_services.wallet_hold_deduct(hold_id=hold.pk, reason=reason)
        elif kind == TransactionType.CAPTURE:
            wallet_services.wallet_hold_deduct(hold_id=hold.pk, amount=txn.amount, reason=reason)
        elif kind == TransactionType.VOID:
            wallet_services.wallet_hold_release(hold_id=hold.pk, reason=reason)
    except HoldNotHeld:
        if kind == TransactionType.VOID:
            return result  # nothing left to release: the void stands
        logger.warning("wallet_hold_gone", payment_id=payment.pk, transaction_id=txn.pk)
        return _expired(result)
    except WalletBusy as exc:
        raise GatewayUnavailable("The wallet is busy; the settlement will be retried.") from exc
    return result

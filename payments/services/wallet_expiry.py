"""Expire store-credit holds that nobody settled in time, failing their payment attempts.

The expiry goes through the ordinary settlement: whichever of the expiry and a late success
takes the payment's lock first wins; the other finds the ledger row settled and does nothing,
and the hold itself can leave `held` only once (wallets.services.apply_moves).
"""

from django.db.models import Exists, OuterRef
from django.utils import timezone

from payments.gateways.base import FailureCode, GatewayResult, GatewayStatus
from payments.gateways.wallet import EXPIRED_MESSAGE, hold_reference
from payments.services.gateway_results import payment_apply_gateway_result
from transactions.models import Transaction, TransactionStatus
from wallets.models import HoldStatus, WalletHold


def wallet_expire_holds(*, limit: int = 200) -> int:
    """Fail the attempts whose holds outlived WALLET_HOLD_TTL_MINUTES; return how many."""
    # Only holds whose attempt is still pending: an authorized payment's hold waits for capture
    # or void (the order's own expiry voids it), and must not use up the limit.
    pending = Transaction.objects.filter(
        idempotency_key=OuterRef("idempotency_key"), status=TransactionStatus.PENDING
    )
    due = WalletHold.objects.filter(
        Exists(pending), status=HoldStatus.HELD, expires_at__lte=timezone.now()
    )
    expired = 0
    for hold in due.order_by("expires_at")[:limit]:
        txn = Transaction.objects.filter(
            idempotency_key=hold.idempotency_key, status=TransactionStatus.PENDING
        ).first()
        if txn is None:
            continue  # settled meanwhile by a late success
        payment_apply_gateway_result(
            transaction_id=txn.pk,
            result=GatewayResult(
                status=GatewayStatus.FAILED,
                reference=hold_reference(hold),  # the failed row names the hold it gave back
                failure_code=FailureCode.HOLD_EXPIRED,
                failure_message=EXPIRED_MESSAGE,
                raw={"hold_id": hold.pk, "expired": True},
            ),
        )
        expired += 1
    return expired

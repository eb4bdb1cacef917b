"""Store credit as a gateway: a charge places a hold; the settlement deducts or releases it.

The hold is placed in step 2 (the worker's call); deducting or releasing it happens in step 3,
inside the transaction that settles the ledger row (payments.services.wallet_settlement), so
the ledger and the wallet always agree. Refunds credit the wallet, once per idempotency key.
"""

import hashlib
from decimal import Decimal

from gamarriando.errors import InsufficientFunds, WalletBusy
from gamarriando.money import CURRENCY_EXPONENTS
from payments.gateways.base import (
    FailureCode,
    Gateway,
    GatewayResult,
    GatewayStatus,
    GatewayUnavailable,
    InvalidPaymentToken,
)
from transactions.models import TransactionType
from wallets import selectors as wallet_selectors
from wallets import services as wallet_services
from wallets.models import HoldStatus, WalletEntry, WalletHold

WALLET = "wallet"  # the payment method store credit is paid with
HOLD_PREFIX = "wh_"
INSUFFICIENT_MESSAGE = "Your store credit is not enough for this payment."
EXPIRED_MESSAGE = "The store credit reserved for this payment expired before it was settled."


def hold_reference(hold: WalletHold) -> str:
    """Return the gateway reference of a hold (the payment's gateway_transaction_id)."""
    return f"{HOLD_PREFIX}{hold.pk}"


def hold_from_reference(reference: str) -> WalletHold | None:
    """Return the hold a reference names, if any."""
    if not reference.startswith(HOLD_PREFIX) or not reference[len(HOLD_PREFIX) :].isdigit():
        return None
    return WalletHold.objects.filter(pk=int(reference[len(HOLD_PREFIX) :])).first()


def _operation_reference(kind: str, key: str) -> str:
    return f"w{kind}_{hashlib.sha256(key.encode()).hexdigest()[:24]}"


def _hold_result(hold: WalletHold) -> GatewayResult:
    if hold.status in (HoldStatus.EXPIRED, HoldStatus.RELEASED):
        return GatewayResult(
            status=GatewayStatus.FAILED,
            reference=hold_reference(hold),
            failure_code=FailureCode.HOLD_EXPIRED,
            failure_message=EXPIRED_MESSAGE,
            raw={"hold_id": hold.pk, "status": hold.status},
        )
    return GatewayResult(
        status=GatewayStatus.SUCCEEDED,
        reference=hold_reference(hold),
        raw={"hold_id": hold.pk, "status": hold.status, "expires_at": hold.expires_at.isoformat()},
    )


class WalletGateway(Gateway):
    """The customer's own store credit; no token, no network, optimistic writes."""

    name = WALLET
    currencies = tuple(CURRENCY_EXPONENTS)

    takes_token = False

    def validate_token(self, token: str) -> None:
        if token:
            raise InvalidPaymentToken("A wallet payment takes no payment_method_id.")

    def charge(
        self,
        *,
        token: str,
        amount: Decimal,
        currency: str,
        capture: bool,
        idempotency_key: str,
        return_url: str = "",
        metadata: dict | None = None,
        customer=None,
    ) -> GatewayResult:
        metadata = metadata or {}
        try:
            hold = wallet_services.wallet_hold_place(
                user=customer,
                currency=currency,
                amount=amount,
                idempotency_key=idempotency_key,
                payment_id=metadata.get("payment_id"),
                order_id=metadata.get("order_id"),
            )
        except InsufficientFunds as exc:
            return GatewayResult(
                status=GatewayStatus.FAILED,
                failure_code=FailureCode.INSUFFICIENT_FUNDS,
                failure_message=INSUFFICIENT_MESSAGE,
                raw={"available": exc.details.get("available")},
            )
        except WalletBusy as exc:
            raise GatewayUnavailable("The wallet is busy; retry.") from exc
        return _hold_result(hold)

    def capture(
        self, *, reference: str, amount: Decimal, currency: str, idempotency_key: str
    ) -> GatewayResult:
        return self._check_held(reference, TransactionType.CAPTURE, idempotency_key)

    def void(self, *, reference: str, idempotency_key: str) -> GatewayResult:
        return self._check_held(reference, TransactionType.VOID, idempotency_key)

    def _check_held(self, reference: str, kind: str, key: str) -> GatewayResult:
        # The hold moves in the settlement's transaction; here we only confirm it is still there.
        hold = hold_from_reference(reference)
        if hold is None or hold.status != HoldStatus.HELD:
            return GatewayResult(
                status=GatewayStatus.FAILED,
                failure_code=FailureCode.HOLD_EXPIRED,
                failure_message=EXPIRED_MESSAGE,
                raw={"reference": reference},
            )
        return GatewayResult(
            status=GatewayStatus.SUCCEEDED,
            reference=_operation_reference(kind, key),
            raw={"hold_id": hold.pk, "operation": kind},
        )

    def refund(
        self,
        *,
        reference: str,
        amount: Decimal,
        currency: str,
        idempotency_key: str,
        metadata: dict | None = None,
    ) -> GatewayResult:
        hold = hold_from_reference(reference)
        if hold is None:
            return GatewayResult(
                status=GatewayStatus.FAILED,
                failure_code=FailureCode.RESOURCE_MISSING,
                failure_message="The wallet has no such payment.",
            )
        try:
            entry = wallet_services.wallet_credit(
                user=hold.wallet.user,
                currency=currency,
                amount=amount,
                reason=f"refund of payment {hold.payment_id}",
                payment_id=hold.payment_id,
                order_id=hold.order_id,
                idempotency_key=idempotency_key,
            )
        except WalletBusy as exc:
            raise GatewayUnavailable("The wallet is busy; retry.") from exc
        return self._entry_result(entry)

    @staticmethod
    def _entry_result(entry: WalletEntry) -> GatewayResult:
        return GatewayResult(
            status=GatewayStatus.SUCCEEDED,
            reference=f"we_{entry.pk}",
            raw={"wallet_entry_id": entry.pk, "destination": "wallet"},
        )

    def retrieve(
        self, *, operation: str, idempotency_key: str, reference: str = ""
    ) -> GatewayResult | None:
        if operation in (TransactionType.CHARGE, TransactionType.AUTHORIZATION):
            hold = wallet_selectors.hold_for_key(idempotency_key)
            return None if hold is None else _hold_result(hold)
        if operation == TransactionType.REFUND:
            entry = WalletEntry.objects.filter(idempotency_key=idempotency_key).first()
            return None if entry is None else self._entry_result(entry)
        return None  # capture and void are checks only: running them again is harmless

"""Charge: open a processing attempt, then the worker makes the gateway call and applies it."""

import time
from dataclasses import replace

from django.db import transaction

from gamarriando.errors import PaymentMethodError, invalid_status
from gamarriando.logging import get_logger
from gamarriando.metrics import observe_gateway_call
from orders.models import OrderStatus
from payments.gateways.base import (
    FailureCode,
    GatewayResult,
    GatewayStatus,
    GatewayTimeout,
    InvalidPaymentToken,
)
from payments.gateways.registry import get_gateway
from payments.limits import check_process_limits
from payments.models import Payment, PaymentStatus
from payments.permissions import require_owner
from payments.services.gateway_results import payment_apply_gateway_result
from payments.services.ledger_core import lock_payment, open_operation, set_status
from payments.transitions import PROCESSABLE
from transactions.models import Transaction, TransactionStatus, TransactionType

logger = get_logger(__name__)


def payment_process(
    *,
    payment_id: int,
    actor,
    payment_method_id: str = "",
    capture: bool = True,
    return_url: str = "",
) -> Payment:
    """Open a processing attempt and hand the charge to a worker.

    Raises:
        PaymentMethodError: the token is not one the gateway takes.
        PermissionDeniedError: the actor does not own the order.
        InvalidStatus: the payment is not pending or failed, or its order is not pending.
        LimitExceeded: the payment's attempts or the customer's failed attempts are used up.
    """
    method = Payment.objects.values_list("payment_method", flat=True).get(pk=payment_id)
    gateway = get_gateway(method)
    try:
        gateway.validate_token(payment_method_id)
    except InvalidPaymentToken as exc:
        raise PaymentMethodError(
            str(exc), details={"payment_method_id": payment_method_id}
        ) from exc
    if not capture and not gateway.supports_authorize:
        raise PaymentMethodError(f"{method} cannot authorize without capturing.")
    with transaction.atomic():
        order, payment = lock_payment(payment_id)
        require_owner(actor, order.user_id)
        if payment.status not in PROCESSABLE:
            raise invalid_status(
                payment.status, "Only a pending or failed payment can be processed."
            )
        if order.status != OrderStatus.PENDING:
            raise invalid_status(
                payment.status, f"The order is {order.status}; it takes no payments."
            )
        check_process_limits(payment, order.user_id)
        payment.attempts += 1
        payment.payment_method_token = payment_method_id
        payment.capture_on_process = capture
        payment.return_url = return_url
        payment.failure_code = payment.failure_message = ""
        payment.next_action = None
        set_status(
            payment, PaymentStatus.PROCESSING, actor=actor, reason=f"attempt {payment.attempts}"
        )
        payment.save()
        kind = TransactionType.CHARGE if capture else TransactionType.AUTHORIZATION
        open_operation(payment, kind, payment.amount, actor=actor, key=payment.attempt_key())
    return payment


def payment_execute_transaction(*, transaction_id: int) -> None:
    """Make the gateway call of a pending ledger row and apply its answer.

    Raises:
        GatewayRetryableError: the task retries with the same idempotency key.
    """
    txn = Transaction.objects.select_related("payment__order__user").get(pk=transaction_id)
    if txn.status != TransactionStatus.PENDING:
        return
    payment = txn.payment
    gateway = get_gateway(payment.payment_method)
    key = txn.idempotency_key
    started = time.perf_counter()
    if txn.transaction_type in (TransactionType.CHARGE, TransactionType.AUTHORIZATION):
        result = gateway.charge(
            token=payment.payment_method_token,
            amount=txn.amount,
            currency=txn.currency,
            capture=txn.transaction_type == TransactionType.CHARGE,
            idempotency_key=key,
            return_url=payment.return_url,
            metadata={"payment_id": payment.pk, "order_id": payment.order_id, "attempt_key": key},
            customer=payment.order.user,
        )
    elif txn.transaction_type == TransactionType.CAPTURE:
        result = gateway.capture(
            reference=payment.gateway_transaction_id,
            amount=txn.amount,
            currency=txn.currency,
            idempotency_key=key,
        )
    elif txn.transaction_type == TransactionType.VOID:
        result = gateway.void(reference=payment.gateway_transaction_id, idempotency_key=key)
    else:
        result = gateway.refund(
            reference=payment.gateway_transaction_id,
            amount=txn.amount,
            currency=txn.currency,
            idempotency_key=key,
            metadata={"transaction_id": txn.pk, "payment_id": payment.pk},
        )
    latency_ms = round((time.perf_counter() - started) * 1000)
    observe_gateway_call(payment.payment_method, txn.transaction_type, result.status, started)
    payment_apply_gateway_result(
        transaction_id=txn.pk, result=replace(result, latency_ms=latency_ms)
    )


def payment_gateway_gave_up(*, transaction_id: int, error: Exception) -> None:
    """Settle a row whose retries ran out: failed when nothing happened, left for reconciliation when unknown."""
    if isinstance(error, GatewayTimeout):
        logger.warning("gateway_outcome_unknown", transaction_id=transaction_id, error=str(error))
        return
    payment_apply_gateway_result(
        transaction_id=transaction_id,
        result=GatewayResult(
            status=GatewayStatus.FAILED,
            failure_code=FailureCode.GATEWAY_ERROR,
            failure_message="The payment gateway failed. Try again later.",
            raw={"error": str(error)[:500]},
        ),
    )

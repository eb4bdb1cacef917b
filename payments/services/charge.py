"""Charge: open a processing attempt, then the worker makes the gateway call and applies it."""

import time
from dataclasses import replace

from django.db import transaction

from gamarriando.compiled import Lookup
from gamarriando.errors import PaymentMethodError, field_error, invalid_status
from gamarriando.finance_metrics import DUPLICATE_ATTEMPTS
from gamarriando.idempotency import owns_transaction
from gamarriando.logging import get_logger
from gamarriando.metrics import observe_gateway_call
from gamarriando.tracing import traced_gateway
from payments import rules
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
from payments.saved_selectors import wallet_of_saved as saved_wallet
from payments.services.amounts import check_fits_balance
from payments.services.approval import payment_resume_attempt
from payments.services.gateway_results import payment_apply_gateway_result
from payments.services.ledger_core import lock_payment, open_operation, set_status
from payments.services.saved_methods import saved_method_for_payment
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
    saved_payment_method_id=None,
    save_payment_method: bool = False,
    looked_up: Payment | None = None,
) -> Payment:
    """Open a processing attempt and hand the charge to a worker.

    A caller that already read the payment passes it as looked_up: its method and order id
    are what is read before the lock (the payment itself is locked and read again).

    Raises:
        PaymentMethodError: the token is not one the gateway takes, or the saved card expired.
        ValidationFailed: the saved method is not one of the actor's.
        PermissionDeniedError: the actor does not own the order.
        InvalidStatus: the payment is not pending or failed, or its order is not pending.
        AmountMismatch: other live payments already cover what this one would charge.
        LimitExceeded: the payment's attempts or the customer's failed attempts are used up.
    """
    if looked_up is not None and looked_up.pk == payment_id:
        method, order_id = looked_up.payment_method, looked_up.order_id
    else:
        method, order_id = Payment.objects.values_list("payment_method", "order_id").get(
            pk=payment_id
        )
    gateway = get_gateway(method)
    saved = None
    if (saved_payment_method_id is not None or save_payment_method) and method != "stripe":
        raise PaymentMethodError(f"{method} keeps no saved payment methods.")
    if not payment_method_id and saved_payment_method_id is None and gateway.takes_token:
        # PayPal's buyer approves at PayPal and the wallet needs none; a card gateway does.
        raise field_error("payment_method_id", "This field is required.")
    if saved_payment_method_id is not None:
        saved = saved_method_for_payment(
            user=actor, saved_payment_method_id=saved_payment_method_id
        )
        payment_method_id = saved.id
    try:
        gateway.validate_token(payment_method_id)
    except InvalidPaymentToken as exc:
        raise PaymentMethodError(
            str(exc), details={"payment_method_id": payment_method_id}
        ) from exc
    if not capture and not gateway.supports_authorize:
        raise PaymentMethodError(f"{method} cannot authorize without capturing.")
    # Inside a keyed request's transaction a savepoint buys nothing (idempotency.owns_transaction).
    with transaction.atomic(savepoint=not owns_transaction()):
        order, payment = lock_payment(payment_id, order_id)
        require_owner(actor, order.user_id)
        if payment.status == PaymentStatus.REQUIRES_ACTION and gateway.resumes_on_process:
            rules.check_order_takes_payments(order, payment)
            return payment_resume_attempt(payment)  # the buyer is back from approving
        if payment.status not in PROCESSABLE:
            if payment.status != PaymentStatus.CANCELLED:
                DUPLICATE_ATTEMPTS.labels("second_process").inc()
            raise invalid_status(
                payment.status, "Only a pending or failed payment can be processed."
            )
        rules.check_order_takes_payments(order, payment)
        if payment.status == PaymentStatus.FAILED:
            # A failed payment is not live, so another may have taken its balance since; a
            # pending one has counted against the balance, under this lock, all along.
            check_fits_balance(
                order,
                payment.amount,
                exclude_payment_id=payment.pk,
                message="Other payments already cover this order's balance; process or cancel them.",
            )
        check_process_limits(payment, order.user_id)
        payment.attempts += 1
        payment.payment_method_token = payment_method_id
        payment.capture_on_process = capture
        payment.return_url = return_url
        payment.saved_payment_method = saved
        payment.save_payment_method = save_payment_method
        payment.wallet = (saved_wallet(saved) or "") if saved else ""
        payment.failure_code = payment.failure_message = ""
        payment.next_action = None
        set_status(
            payment, PaymentStatus.PROCESSING, actor=actor, reason=f"attempt {payment.attempts}"
        )
        payment.save()
        kind = TransactionType.CHARGE if capture else TransactionType.AUTHORIZATION
        open_operation(payment, kind, payment.amount, actor=actor, key=payment.attempt_key())
    return payment


# The row with its payment, order and customer, compiled once (gamarriando.compiled): building
# the three-join query was a sixth of a settled charge's CPU (docs/benchmarks.md, round 7).
_PENDING_ROW = Lookup(
    lambda pk: Transaction.objects.select_related("payment__order__user").filter(pk=pk)
)


def payment_execute_transaction(*, transaction_id: int) -> None:
    """Make the gateway call of a pending ledger row and apply its answer.

    Raises:
        GatewayRetryableError: the task retries with the same idempotency key.
    """
    txn = _PENDING_ROW.get(transaction_id)
    if txn is None:
        raise Transaction.DoesNotExist(f"no ledger row {transaction_id}")
    if txn.status != TransactionStatus.PENDING:
        return
    payment = txn.payment
    gateway = traced_gateway(get_gateway(payment.payment_method))
    key = txn.idempotency_key
    started = time.perf_counter()
    is_attempt = txn.transaction_type in (TransactionType.CHARGE, TransactionType.AUTHORIZATION)
    if (
        is_attempt
        and gateway.resumes_on_process
        and (txn.gateway_transaction_id or payment.status == PaymentStatus.REQUIRES_ACTION)
    ):
        # The attempt's order exists and waits for the buyer: read it, finish it once approved.
        result = gateway.retrieve(
            operation=txn.transaction_type,
            idempotency_key=key,
            reference=txn.gateway_transaction_id or payment.gateway_transaction_id,
        )
    elif is_attempt:
        # Only a gateway that saves methods is asked to (payment_process refuses it elsewhere).
        saving = {"save_payment_method": True} if payment.save_payment_method else {}
        result = gateway.charge(
            token=payment.payment_method_token,
            amount=txn.amount,
            currency=txn.currency,
            capture=txn.transaction_type == TransactionType.CHARGE,
            idempotency_key=key,
            return_url=payment.return_url,
            # Ours last: the storefront's keys can never overwrite what webhooks look payments up by.
            metadata={
                **payment.metadata,
                "payment_id": payment.pk,
                "order_id": payment.order_id,
                "attempt_key": key,
            },
            customer=payment.order.user,
            **saving,
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
            reference=refund_reference(payment)
            if gateway.refunds_by_capture
            else payment.gateway_transaction_id,
            amount=txn.amount,
            currency=txn.currency,
            idempotency_key=key,
            metadata={"transaction_id": txn.pk, "payment_id": payment.pk},
        )
    latency_ms = round((time.perf_counter() - started) * 1000)
    observe_gateway_call(payment.payment_method, txn.transaction_type, result.status, started)
    payment_apply_gateway_result(
        transaction_id=txn.pk, result=replace(result, latency_ms=latency_ms), payment=payment
    )


def refund_reference(payment: Payment) -> str:
    """Return the gateway id of the payment's capture (a charge's or an authorization's)."""
    row = (
        payment.transactions.filter(
            transaction_type__in=(TransactionType.CHARGE, TransactionType.CAPTURE),
            status=TransactionStatus.SUCCEEDED,
        )
        .exclude(gateway_transaction_id="")
        .order_by("-pk")
        .first()
    )
    return row.gateway_transaction_id if row else payment.gateway_transaction_id


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

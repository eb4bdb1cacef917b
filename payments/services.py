"""Every write to payments and the ledger: create, process, capture, void, refund, apply results.

The path of every gateway operation has three steps (DESIGN.md): a short locked
transaction writes a pending ledger row with its idempotency key; a worker calls the
gateway outside any transaction; a short locked transaction settles the row and
recomputes the payment and the order from the ledger. Locks are always taken in the
same order: order, then payment, then ledger row.
"""

import time
from dataclasses import replace
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from gamarriando import events, money
from gamarriando.errors import (
    AlreadyRefunded,
    AmountMismatch,
    PaymentMethodError,
    PermissionDeniedError,
    RefundExceedsRefundable,
    RefundNotEligible,
    field_error,
    invalid_status,
)
from gamarriando.logging import get_logger
from gamarriando.metrics import REFUNDS, observe_gateway_call
from gamarriando.queue import enqueue_on_commit
from orders.models import Order, OrderStatus
from orders.services import order_apply_payment_totals
from payments.gateways.base import (
    FAILED,
    PENDING,
    REQUIRES_ACTION,
    SUCCEEDED,
    GatewayResult,
    GatewayTimeout,
    InvalidPaymentToken,
)
from payments.gateways.registry import get_gateway
from payments.models import Payment, PaymentStatus, PaymentStatusHistory
from payments.transitions import LIVE, PROCESSABLE, check_transition
from transactions.models import Transaction, TransactionStatus, TransactionType
from transactions.selectors import LedgerTotals, ledger_totals, pending_operation_exists

logger = get_logger(__name__)
S, T = PaymentStatus, TransactionType
ZERO = Decimal("0")
REFUND_ELIGIBLE_ORDER = {OrderStatus.PAID, OrderStatus.PROCESSING}
STATUS_EVENTS = {
    S.AUTHORIZED: "payment.authorized",
    S.COMPLETED: "payment.succeeded",
    S.FAILED: "payment.failed",
    S.REQUIRES_ACTION: "payment.requires_action",
}


# -- helpers -----------------------------------------------------------------


def _lock(payment_id: int) -> tuple[Order, Payment]:
    """Lock the order, then the payment (the fixed order that avoids deadlocks)."""
    order_id = Payment.objects.values_list("order_id", flat=True).get(pk=payment_id)
    order = Order.objects.select_for_update().get(pk=order_id)
    payment = Payment.objects.select_for_update().get(pk=payment_id)
    return order, payment


def _amount(value: Decimal, currency: str, field: str = "amount") -> Decimal:
    try:
        return money.check_scale(value, currency)
    except money.MoneyError as exc:
        raise field_error(field, str(exc)) from exc


def _fmt(amount: Decimal, currency: str) -> str:
    return money.format_amount(amount, currency)


def _event_data(payment: Payment, **extra) -> dict:
    return {
        "payment_id": payment.pk,
        "order_id": payment.order_id,
        "status": payment.status,
        "payment_method": payment.payment_method,
        "amount": _fmt(payment.amount, payment.currency),
        "captured_amount": _fmt(payment.captured_amount, payment.currency),
        "refunded_amount": _fmt(payment.refunded_amount, payment.currency),
        "currency": payment.currency,
        "failure_code": payment.failure_code,
        **extra,
    }


def _set_status(
    payment: Payment, to_status: str, *, actor=None, reason: str = "", voided=False
) -> None:
    """Move a locked payment along the transitions table, with history and an event."""
    from_status = payment.status
    if from_status == to_status:
        return
    check_transition(from_status, to_status)
    payment.status = to_status
    PaymentStatusHistory.objects.create(
        payment=payment,
        from_status=from_status,
        to_status=to_status,
        actor=actor,
        reason=reason[:255],
    )
    event_type = (
        "payment.voided" if voided and to_status == S.CANCELLED else STATUS_EVENTS.get(to_status)
    )
    if to_status == S.CANCELLED and not voided:
        event_type = "payment.cancelled"
    if event_type:
        events.publish(
            event_type, _event_data(payment, from_status=from_status), order_id=payment.order_id
        )


def _uncovered_balance(order: Order, *, exclude_payment_id: int | None = None) -> Decimal:
    """Return what of the order is neither paid nor promised by another live payment."""
    live = order.payments.filter(status__in=LIVE)
    if exclude_payment_id is not None:
        live = live.exclude(pk=exclude_payment_id)
    promised = live.aggregate(total=Sum("amount"))["total"] or ZERO
    return order.total_amount - order.amount_paid - promised


def _derive_status(payment: Payment, totals: LedgerTotals, flow_status: str | None) -> str:
    if totals.refunded > 0:
        return S.REFUNDED if totals.refunded >= totals.captured else S.PARTIALLY_REFUNDED
    if totals.captured > 0:
        return S.COMPLETED
    if totals.voided:
        return S.CANCELLED
    if totals.authorized > 0:
        return S.AUTHORIZED
    return flow_status or payment.status


def _open_operation(
    payment: Payment, kind: str, amount: Decimal, *, actor=None, reason="", key=None
) -> Transaction:
    """Write a pending ledger row with its gateway key and run it after commit."""
    from payments.tasks import execute_transaction

    if key is None:
        number = payment.transactions.filter(transaction_type=kind).count() + 1
        key = f"payment-{payment.pk}-{kind}-{number}"
    txn = Transaction.objects.create(
        payment=payment,
        transaction_type=kind,
        amount=amount,
        currency=payment.currency,
        status=TransactionStatus.PENDING,
        idempotency_key=key,
        reason=reason[:255],
        created_by=actor,
    )
    enqueue_on_commit(execute_transaction, transaction_id=txn.pk)
    return txn


def _sync(
    order: Order, payment: Payment, *, actor=None, reason: str = "", flow_status=None, voided=False
) -> None:
    """Recompute a locked payment and its order from the ledger; settle cancelled orders."""
    totals = ledger_totals(payment.pk)
    payment.authorized_amount = totals.authorized
    payment.captured_amount = totals.captured
    payment.refunded_amount = totals.refunded
    _set_status(
        payment,
        _derive_status(payment, totals, flow_status),
        actor=actor,
        reason=reason,
        voided=voided,
    )
    payment.save()
    order_totals = order.payments.aggregate(
        paid=Sum("captured_amount"), refunded=Sum("refunded_amount")
    )
    order_apply_payment_totals(
        order=order,
        amount_paid=order_totals["paid"] or ZERO,
        amount_refunded=order_totals["refunded"] or ZERO,
    )
    if order.status == OrderStatus.CANCELLED:
        _settle_for_cancelled_order(order, payment, totals)


def _settle_for_cancelled_order(
    order: Order, payment: Payment, totals: LedgerTotals | None = None
) -> None:
    """Give back what a cancelled order holds on this payment: cancel, void or refund."""
    totals = totals or ledger_totals(payment.pk)
    reason = f"order {order.order_number} cancelled"
    if payment.status == S.PENDING:
        _set_status(payment, S.CANCELLED, reason=reason)
        payment.save(update_fields=["status", "updated_at"])
    elif payment.status == S.AUTHORIZED:
        if not pending_operation_exists(payment.pk, T.VOID, T.CAPTURE):
            _open_operation(payment, T.VOID, totals.authorized, reason=reason)
    elif payment.status in (S.COMPLETED, S.PARTIALLY_REFUNDED):
        refundable = totals.refundable
        # One automatic refund per cancellation: when the gateway refuses it (money taken
        # offline, a charge it no longer knows), reopening it would loop forever; the
        # payment is left to Finance and the alert check names it.
        refused = payment.transactions.filter(
            transaction_type=T.REFUND, status=TransactionStatus.FAILED, reason=reason
        ).exists()
        if refundable > 0 and not refused:
            _open_operation(payment, T.REFUND, refundable, reason=reason)
        elif refundable > 0:
            logger.warning(
                "cancelled_order_refund_refused",
                order_id=order.pk,
                payment_id=payment.pk,
                refundable=str(refundable),
            )


# -- storefront and staff actions --------------------------------------------


def payment_create(
    *, user, order_id: int, payment_method: str, amount: Decimal, currency: str | None = None
) -> Payment:
    """Open a pending payment for part or all of an order's uncovered balance.

    Raises:
        ValidationFailed: the order is not the caller's or the amount has too many decimals.
        PaymentMethodError: the method is not enabled or does not take this currency.
        InvalidStatus: the order is not pending.
        AmountMismatch: the currency differs from the order's or the amount exceeds the balance.
    """
    gateway = get_gateway(payment_method)
    with transaction.atomic():
        order = Order.objects.select_for_update().filter(pk=order_id, user=user).first()
        if order is None:
            raise field_error("order_id", "No such order.")
        if order.status != OrderStatus.PENDING:
            raise invalid_status(order.status, "Only a pending order can take payments.")
        currency = currency or order.currency
        if currency != order.currency:
            raise AmountMismatch(
                f"The order is in {order.currency}.", details={"currency": order.currency}
            )
        if currency not in gateway.currencies:
            raise PaymentMethodError(f"{payment_method} does not take {currency}.")
        amount = _amount(amount, currency)
        available = _uncovered_balance(order)
        if amount > available:
            raise AmountMismatch(details={"balance_due": _fmt(max(available, ZERO), currency)})
        payment = Payment.objects.create(
            order=order, payment_method=payment_method, amount=amount, currency=currency
        )
        PaymentStatusHistory.objects.create(
            payment=payment, to_status=S.PENDING, actor=user, reason="created"
        )
        events.publish("payment.created", _event_data(payment), order_id=order.pk)
    return payment


def payment_update(
    *, payment_id: int, actor, payment_method: str | None = None, amount: Decimal | None = None
) -> Payment:
    """Change the method or amount of a pending payment.

    Raises:
        InvalidStatus: the payment is no longer pending.
        PaymentMethodError: the new method is not enabled.
        AmountMismatch: the new amount exceeds the order's uncovered balance.
    """
    if payment_method is not None:
        get_gateway(payment_method)
    with transaction.atomic():
        order, payment = _lock(payment_id)
        if payment.status != S.PENDING:
            raise invalid_status(payment.status, "Only a pending payment can be changed.")
        if payment_method is not None:
            payment.payment_method = payment_method
        if amount is not None:
            amount = _amount(amount, payment.currency)
            available = _uncovered_balance(order, exclude_payment_id=payment.pk)
            if amount > available:
                raise AmountMismatch(
                    details={"balance_due": _fmt(max(available, ZERO), payment.currency)}
                )
            payment.amount = amount
        payment.save()
    return payment


def payment_cancel(*, payment_id: int, actor) -> Payment:
    """Cancel a pending payment, or void an authorized one.

    Raises:
        InvalidStatus: the payment is neither pending nor authorized, or an operation is in flight.
    """
    with transaction.atomic():
        order, payment = _lock(payment_id)
        if payment.status == S.PENDING:
            _set_status(payment, S.CANCELLED, actor=actor, reason="cancelled")
            payment.save(update_fields=["status", "updated_at"])
        elif payment.status == S.AUTHORIZED:
            if pending_operation_exists(payment.pk, T.VOID, T.CAPTURE):
                raise invalid_status(payment.status, "A capture or void is already running.")
            _open_operation(
                payment, T.VOID, payment.authorized_amount, actor=actor, reason="voided"
            )
        else:
            raise invalid_status(
                payment.status, "Only a pending or authorized payment can be cancelled."
            )
    return payment


def payment_process(
    *, payment_id: int, actor, payment_method_id: str, capture: bool = True, return_url: str = ""
) -> Payment:
    """Open a processing attempt and hand the charge to a worker.

    Raises:
        PaymentMethodError: the token is not one the gateway takes.
        InvalidStatus: the payment is not pending or failed, or its order is not pending.
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
        order, payment = _lock(payment_id)
        if payment.status not in PROCESSABLE:
            raise invalid_status(
                payment.status, "Only a pending or failed payment can be processed."
            )
        if order.status != OrderStatus.PENDING:
            raise invalid_status(
                payment.status, f"The order is {order.status}; it takes no payments."
            )
        payment.attempts += 1
        payment.payment_method_token = payment_method_id
        payment.capture_on_process = capture
        payment.return_url = return_url
        payment.failure_code = payment.failure_message = ""
        payment.next_action = None
        _set_status(payment, S.PROCESSING, actor=actor, reason=f"attempt {payment.attempts}")
        payment.save()
        kind = T.CHARGE if capture else T.AUTHORIZATION
        _open_operation(payment, kind, payment.amount, actor=actor, key=payment.attempt_key())
    return payment


def payment_capture(
    *, payment_id: int, actor, amount: Decimal | None = None
) -> tuple[Payment, Transaction]:
    """Capture an authorized payment in full or in part; the rest of the hold is released.

    Raises:
        InvalidStatus: the payment is not authorized, or a capture or void is running.
        ValidationFailed: the amount is above what was authorized.
    """
    with transaction.atomic():
        order, payment = _lock(payment_id)
        if payment.status != S.AUTHORIZED:
            raise invalid_status(payment.status, "Only an authorized payment can be captured.")
        if pending_operation_exists(payment.pk, T.VOID, T.CAPTURE):
            raise invalid_status(payment.status, "A capture or void is already running.")
        capturable = payment.authorized_amount - payment.captured_amount
        amount = capturable if amount is None else _amount(amount, payment.currency)
        if amount > capturable:
            raise field_error(
                "amount", f"At most {_fmt(capturable, payment.currency)} can be captured."
            )
        txn = _open_operation(payment, T.CAPTURE, amount, actor=actor, reason="captured")
    return payment, txn


def payment_refund(
    *, payment_id: int, actor, reason: str, amount: Decimal | None = None
) -> tuple[Payment, Transaction]:
    """Reserve a refund under the payment's lock and hand it to a worker.

    Finance may refund at any time; the owner only while the order is paid or processing.

    Raises:
        PermissionDeniedError: staff without payments.refund_payment.
        RefundNotEligible: the owner asks while the order is past processing.
        AlreadyRefunded: the payment is fully refunded.
        InvalidStatus: nothing was captured.
        RefundExceedsRefundable: the amount is above what is left to refund.
    """
    with transaction.atomic():
        order, payment = _lock(payment_id)
        if not actor.has_perm("payments.refund_payment"):
            if actor.is_staff:
                raise PermissionDeniedError("Your role may not refund payments.")
            if order.status not in REFUND_ELIGIBLE_ORDER:
                raise RefundNotEligible(details={"order_status": order.status})
        if payment.status == S.REFUNDED:
            raise AlreadyRefunded(details={"status": payment.status})
        if payment.captured_amount <= 0:
            raise invalid_status(payment.status, "Nothing was captured on this payment.")
        totals = ledger_totals(payment.pk)
        refundable = totals.refundable
        amount = refundable if amount is None else _amount(amount, payment.currency)
        if amount <= 0 or amount > refundable:
            raise RefundExceedsRefundable(
                details={"refundable_amount": _fmt(max(refundable, ZERO), payment.currency)}
            )
        txn = _open_operation(payment, T.REFUND, amount, actor=actor, reason=reason)
    return payment, txn


def transaction_record_offline(
    *,
    payment_id: int,
    actor,
    transaction_type: str,
    amount: Decimal,
    reason: str,
    gateway_transaction_id: str = "",
) -> Transaction:
    """Record a money movement made outside our gateways, under the same ledger rules.

    Raises:
        InvalidStatus: the payment's status does not allow this kind of row.
        AlreadyRefunded / RefundExceedsRefundable: a refund above what is left.
        AmountMismatch: a charge, authorization or capture above what the payment allows.
        ValidationFailed: the gateway reference is already in the ledger.
    """
    with transaction.atomic():
        order, payment = _lock(payment_id)
        amount = _amount(amount, payment.currency)
        totals = ledger_totals(payment.pk)
        if transaction_type == T.REFUND:
            if payment.status == S.REFUNDED:
                raise AlreadyRefunded(details={"status": payment.status})
            if totals.captured <= 0:
                raise invalid_status(payment.status, "Nothing was captured on this payment.")
            refundable = totals.refundable
            if amount > refundable:
                raise RefundExceedsRefundable(
                    details={"refundable_amount": _fmt(refundable, payment.currency)}
                )
        elif transaction_type in (T.CHARGE, T.AUTHORIZATION):
            if payment.status not in (S.PENDING, S.FAILED) or pending_operation_exists(
                payment.pk, T.CHARGE, T.AUTHORIZATION
            ):
                raise invalid_status(
                    payment.status, "Only a pending or failed payment can take a charge."
                )
            if amount > payment.amount - totals.authorized:
                raise AmountMismatch(details={"amount": _fmt(payment.amount, payment.currency)})
        elif transaction_type == T.CAPTURE:
            if payment.status != S.AUTHORIZED or pending_operation_exists(
                payment.pk, T.CAPTURE, T.VOID
            ):
                raise invalid_status(payment.status, "Only an authorized payment can be captured.")
            if amount > totals.authorized - totals.captured:
                raise AmountMismatch(
                    details={
                        "capturable_amount": _fmt(
                            totals.authorized - totals.captured, payment.currency
                        )
                    }
                )
        elif transaction_type == T.VOID:
            if payment.status != S.AUTHORIZED or pending_operation_exists(
                payment.pk, T.CAPTURE, T.VOID
            ):
                raise invalid_status(payment.status, "Only an authorized payment can be voided.")
            if amount != totals.authorized:
                raise field_error(
                    "amount",
                    f"A void releases the whole hold of {_fmt(totals.authorized, payment.currency)}.",
                )
        now = timezone.now()
        try:
            with transaction.atomic():
                txn = Transaction.objects.create(
                    payment=payment,
                    transaction_type=transaction_type,
                    amount=amount,
                    currency=payment.currency,
                    status=TransactionStatus.SUCCEEDED,
                    gateway_transaction_id=gateway_transaction_id,
                    reason=reason[:255],
                    created_by=actor,
                    processed_at=now,
                    gateway_response={"offline": True},
                )
        except IntegrityError as exc:
            raise field_error(
                "gateway_transaction_id", "This gateway reference is already in the ledger."
            ) from exc
        if transaction_type in (T.CHARGE, T.AUTHORIZATION) and not payment.processed_at:
            payment.processed_at = now
        _sync(
            order,
            payment,
            actor=actor,
            reason=f"offline {transaction_type}: {reason}",
            voided=transaction_type == T.VOID,
        )
        if transaction_type == T.REFUND:
            events.publish(
                "refund.succeeded", _event_data(payment, transaction_id=txn.pk), order_id=order.pk
            )
    return txn


# -- worker side ---------------------------------------------------------------


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
    if txn.transaction_type in (T.CHARGE, T.AUTHORIZATION):
        result = gateway.charge(
            token=payment.payment_method_token,
            amount=txn.amount,
            currency=txn.currency,
            capture=txn.transaction_type == T.CHARGE,
            idempotency_key=key,
            return_url=payment.return_url,
            metadata={"payment_id": payment.pk, "order_id": payment.order_id, "attempt_key": key},
            customer=payment.order.user,
        )
    elif txn.transaction_type == T.CAPTURE:
        result = gateway.capture(
            reference=payment.gateway_transaction_id,
            amount=txn.amount,
            currency=txn.currency,
            idempotency_key=key,
        )
    elif txn.transaction_type == T.VOID:
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
            status=FAILED,
            failure_code="gateway_error",
            failure_message="The payment gateway failed. Try again later.",
            raw={"error": str(error)[:500]},
        ),
    )


def payment_apply_gateway_result(*, transaction_id: int, result: GatewayResult) -> Payment | None:
    """Settle a pending ledger row from a gateway answer; a repeated answer changes nothing."""
    if result.status == PENDING:
        return None
    payment_id = Transaction.objects.values_list("payment_id", flat=True).get(pk=transaction_id)
    with transaction.atomic():
        order, payment = _lock(payment_id)
        txn = Transaction.objects.select_for_update().get(pk=transaction_id)
        if txn.status != TransactionStatus.PENDING:
            return payment
        is_attempt = txn.transaction_type in (T.CHARGE, T.AUTHORIZATION)
        now = timezone.now()
        if result.status == REQUIRES_ACTION:
            if is_attempt and payment.status != S.REQUIRES_ACTION:
                payment.next_action = result.next_action
                payment.gateway_transaction_id = result.reference
                payment.gateway_response = result.raw
                _set_status(payment, S.REQUIRES_ACTION, reason="the customer must authenticate")
                payment.save()
            return payment
        txn.status = (
            TransactionStatus.SUCCEEDED if result.status == SUCCEEDED else TransactionStatus.FAILED
        )
        txn.gateway_transaction_id = result.reference or ""
        txn.gateway_response = result.raw
        txn.failure_reason = result.failure_code[:255]
        txn.processed_at = now
        txn.gateway_latency_ms = result.latency_ms
        txn.save()
        flow_status = None
        if is_attempt:
            payment.gateway_transaction_id = result.reference or payment.gateway_transaction_id
            payment.gateway_response = result.raw
            payment.processed_at = now
            payment.next_action = None
            if result.status == FAILED:
                payment.failure_code = result.failure_code
                payment.failure_message = result.failure_message[:255]
                flow_status = S.FAILED
        _sync(
            order,
            payment,
            reason=f"{txn.transaction_type} {txn.status}",
            flow_status=flow_status,
            voided=txn.transaction_type == T.VOID and result.status == SUCCEEDED,
        )
        if txn.transaction_type == T.REFUND:
            REFUNDS.labels(txn.status).inc()
            kind = "refund.succeeded" if result.status == SUCCEEDED else "refund.failed"
            events.publish(
                kind,
                _event_data(
                    payment, transaction_id=txn.pk, refund_amount=_fmt(txn.amount, txn.currency)
                ),
                order_id=order.pk,
            )
    return payment


def payment_reconcile_transaction(*, transaction_id: int) -> None:
    """Ask the gateway what became of a pending row and apply the truth; re-send what it never saw."""
    txn = Transaction.objects.select_related("payment").get(pk=transaction_id)
    if txn.status != TransactionStatus.PENDING:
        return
    gateway = get_gateway(txn.payment.payment_method)
    result = gateway.retrieve(
        operation=txn.transaction_type,
        idempotency_key=txn.idempotency_key,
        reference=txn.gateway_transaction_id,
    )
    if result is None:
        # The gateway never received it (a crash before the call): send it now, same key.
        payment_execute_transaction(transaction_id=transaction_id)
        return
    payment_apply_gateway_result(transaction_id=transaction_id, result=result)


def payment_reconcile_request(*, payment_id: int, actor) -> int:
    """Queue a reconciliation of the payment's pending rows; return how many were queued.

    Raises:
        PermissionDeniedError: the actor may neither refund nor capture.
    """
    if not (
        actor.has_perm("payments.refund_payment") or actor.has_perm("payments.capture_payment")
    ):
        raise PermissionDeniedError("Your role may not reconcile payments.")
    pending = list(
        Transaction.objects.filter(payment_id=payment_id, status=TransactionStatus.PENDING)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for transaction_id in pending:
        enqueue_on_commit("payments.reconcile_transaction", transaction_id=transaction_id)
    return len(pending)


def payments_settle_cancelled_order(*, order_id: int) -> None:
    """Cancel, void or refund every payment of a cancelled order."""
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        if order.status != OrderStatus.CANCELLED:
            return
        for payment in order.payments.select_for_update().order_by("pk"):
            _settle_for_cancelled_order(order, payment)

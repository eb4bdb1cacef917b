"""The ledger core every flow shares: lock, open an operation, recompute from the ledger.

The path of every gateway operation has three steps (docs/DESIGN.md): a short locked
transaction writes a pending ledger row with its idempotency key (`open_operation`); a
worker calls the gateway outside any transaction (`charge.payment_execute_transaction`);
a short locked transaction settles the row (`gateway_results`) and recomputes the payment
and the order from the ledger (`sync_from_ledger`). A writer that takes several locks
takes the order's first, then its payments' and ledger rows'; the order's lock is what
serialises such writers, so no two of them can wait on each other in a cycle. Writers
without it (the janitor's schedule, the reconcilers' notes) change one row in one statement
and hold nothing else.
"""

from decimal import Decimal

from gamarriando import events, money
from gamarriando.compiled import Lookup
from gamarriando.errors import PaymentMethodError
from gamarriando.event_types import EventType
from gamarriando.logging import get_logger
from gamarriando.queue import enqueue_on_commit
from orders.models import Order, OrderStatus
from orders.services import lock_order, order_apply_payment_totals
from payments import rules
from payments.gateways.registry import get_gateway
from payments.models import Payment, PaymentStatus, PaymentStatusHistory
from payments.transitions import check_transition
from transactions.models import ATTEMPT_TYPES, Transaction, TransactionStatus, TransactionType
from transactions.selectors import LedgerTotals, ledger_totals

logger = get_logger(__name__)
ZERO = Decimal("0")
CALLED_OFF = "attempt called off"
REFUND_STATUSES = frozenset({PaymentStatus.REFUNDED, PaymentStatus.PARTIALLY_REFUNDED})
STATUS_EVENTS = {
    PaymentStatus.AUTHORIZED: EventType.PAYMENT_AUTHORIZED,
    PaymentStatus.COMPLETED: EventType.PAYMENT_SUCCEEDED,
    PaymentStatus.FAILED: EventType.PAYMENT_FAILED,
    PaymentStatus.REQUIRES_ACTION: EventType.PAYMENT_REQUIRES_ACTION,
}


# The ORM's locking `get()`s of the hot paths, compiled once (gamarriando.compiled), as
# orders.services.lock_order is: building them was a fifth of a process request's CPU
# (docs/benchmarks.md, round 7).
_PAYMENT_FOR_UPDATE = Lookup(lambda pk: Payment.objects.select_for_update().filter(pk=pk))
_ROW_AND_PAYMENT_FOR_UPDATE = Lookup(
    lambda pk, payment_id: (
        Transaction.objects.select_related("payment")
        .select_for_update()
        .filter(pk=pk, payment_id=payment_id)
    ),
    arity=2,
)


def _locked(lookup: Lookup, model, pk: int):
    row = lookup.get(pk)
    if row is None:
        raise model.DoesNotExist(f"{model.__name__} matching query does not exist.")
    return row


def lock_payment(payment_id: int, order_id: int | None = None) -> tuple[Order, Payment]:
    """Lock the order, then the payment (the fixed order that avoids deadlocks).

    A caller that already read the payment passes its order_id (it never changes) and
    saves the lookup.
    """
    if order_id is None:
        order_id = Payment.objects.values_list("order_id", flat=True).get(pk=payment_id)
    order = lock_order(order_id)
    payment = _locked(_PAYMENT_FOR_UPDATE, Payment, payment_id)
    return order, payment


def lock_operation(
    transaction_id: int, payment_id: int | None = None, order_id: int | None = None
) -> tuple[Order, Payment, Transaction]:
    """Lock the order, then the payment and its ledger row in one statement."""
    # PostgreSQL may lock the row before the payment inside that statement: safe, because
    # whoever else locks either holds the order's lock first (see the module's docstring).
    if payment_id is None or order_id is None:
        payment_id, order_id = Transaction.objects.values_list(
            "payment_id", "payment__order_id"
        ).get(pk=transaction_id)
    order = lock_order(order_id)
    txn = _ROW_AND_PAYMENT_FOR_UPDATE.get(transaction_id, payment_id)
    if txn is None:
        raise Transaction.DoesNotExist(f"no ledger row {transaction_id} of payment {payment_id}")
    return order, txn.payment, txn


def payment_event_data(payment: Payment, **extra) -> dict:
    """Return the `data` of a payment event."""
    return {
        "payment_id": payment.pk,
        "order_id": payment.order_id,
        "status": payment.status,
        "payment_method": payment.payment_method,
        "amount": money.format_amount(payment.amount, payment.currency),
        "captured_amount": money.format_amount(payment.captured_amount, payment.currency),
        "refunded_amount": money.format_amount(payment.refunded_amount, payment.currency),
        "currency": payment.currency,
        "failure_code": payment.failure_code,
        "metadata": payment.metadata,
        **extra,
    }


def publish_refund_event(
    kind: str, order: Order, payment: Payment, txn: Transaction, *, at, **extra
) -> None:
    """Publish a refund's event, dated when it settled: before the order.refunded it causes.

    The data is read after sync_from_ledger (the payment's new figures), which may already
    have published order.refunded; `at` puts the refund's own event first all the same.
    """
    data = payment_event_data(
        payment,
        transaction_id=txn.pk,
        refund_amount=money.format_amount(txn.amount, txn.currency),
        **extra,
    )
    events.publish(kind, data, order_id=order.pk, at=at)


def set_status(
    payment: Payment, to_status: str, *, actor=None, reason: str = "", voided=False
) -> None:
    """Move a locked payment along the transitions table, with history and an event."""
    from_status = payment.status
    if from_status == to_status:
        return
    check_transition(from_status, to_status)
    payment.status = to_status
    history = PaymentStatusHistory(
        payment=payment,
        from_status=from_status,
        to_status=to_status,
        actor=actor,
        reason=reason[:255],
    )
    event_type = (
        EventType.PAYMENT_VOIDED
        if voided and to_status == PaymentStatus.CANCELLED
        else STATUS_EVENTS.get(to_status)
    )
    if to_status == PaymentStatus.CANCELLED and not voided:
        event_type = EventType.PAYMENT_CANCELLED
    if from_status in REFUND_STATUSES:
        # Back from a refund (a refund_reversal): nobody paid again; refund.failed says it.
        event_type = None
    if event_type is None:
        history.save(force_insert=True)
        return
    events.insert_with_event(
        [history],
        event_type,
        payment_event_data(payment, from_status=from_status),
        order_id=payment.order_id,
    )


def derive_status(payment: Payment, totals: LedgerTotals, flow_status: str | None) -> str:
    """Return the status the ledger implies, or the flow's own when the ledger is silent."""
    if totals.refunded > 0:
        return (
            PaymentStatus.REFUNDED
            if totals.refunded >= totals.captured
            else PaymentStatus.PARTIALLY_REFUNDED
        )
    if totals.captured > 0:
        return PaymentStatus.COMPLETED
    if totals.voided:
        return PaymentStatus.CANCELLED
    if totals.authorized > 0:
        return PaymentStatus.AUTHORIZED
    return flow_status or payment.status


def open_operation(
    payment: Payment, kind: str, amount: Decimal, *, actor=None, reason="", key=None
) -> Transaction:
    """Write a pending ledger row with its gateway key and run it after commit."""
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
    enqueue_on_commit("payments.execute_transaction", transaction_id=txn.pk)
    return txn


def abandon_waiting_attempt(payment: Payment, why: str) -> bool:
    """Mark the attempt a locked requires_action payment waits on as called off; send the call.

    Returns False when its gateway cannot call attempts off (PayPal) or none is pending.
    """
    try:
        if not get_gateway(payment.payment_method).abandons_attempts:
            return False
    except PaymentMethodError:  # no longer enabled here: the janitor's reconcile is all we have
        return False
    attempt = (
        payment.transactions.filter(
            transaction_type__in=ATTEMPT_TYPES, status=TransactionStatus.PENDING
        )
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
    )
    if attempt is None:
        return False
    # The note is the mark every path that settles the row reads (this call-off, the gateway's
    # webhook, the janitor): an end it reports as a failure then leaves the payment cancelled.
    Transaction.objects.filter(pk=attempt).update(reason=f"{CALLED_OFF}: {why}"[:255])
    enqueue_on_commit("payments.abandon_attempt", transaction_id=attempt)
    return True


def is_called_off(txn: Transaction) -> bool:
    """Tell whether an attempt row was marked as called off by abandon_waiting_attempt."""
    return txn.reason.startswith(CALLED_OFF)


def sync_from_ledger(
    order: Order, payment: Payment, *, actor=None, reason: str = "", flow_status=None, voided=False
) -> None:
    """Recompute a locked payment and its order from the ledger; settle cancelled orders."""
    totals = ledger_totals(payment.pk)
    payment.authorized_amount = totals.authorized
    payment.captured_amount = totals.captured
    payment.refunded_amount = totals.refunded
    set_status(
        payment,
        derive_status(payment, totals, flow_status),
        actor=actor,
        reason=reason,
        voided=voided,
    )
    payment.save()
    # An order has a handful of payments: reading their two columns and summing here costs
    # two thirds of the CPU of Django's aggregate() (docs/benchmarks.md, round 5).
    columns = list(order.payments.values_list("captured_amount", "refunded_amount"))
    order_apply_payment_totals(
        order=order,
        amount_paid=sum((paid for paid, _ in columns), ZERO),
        amount_refunded=sum((refunded for _, refunded in columns), ZERO),
    )
    if order.status == OrderStatus.CANCELLED:
        give_back_for_cancelled_order(order, payment, totals)


def give_back_for_cancelled_order(
    order: Order, payment: Payment, totals: LedgerTotals | None = None
) -> None:
    """Give back what a cancelled order holds on this payment: cancel, void or refund."""
    totals = totals or ledger_totals(payment.pk)
    reason = f"order {order.order_number} cancelled"
    if payment.status == PaymentStatus.PENDING:
        set_status(payment, PaymentStatus.CANCELLED, reason=reason)
        payment.save(update_fields=["status", "updated_at"])
    elif payment.status == PaymentStatus.AUTHORIZED:
        if rules.can_void(payment):
            open_operation(payment, TransactionType.VOID, totals.authorized, reason=reason)
    elif payment.status == PaymentStatus.REQUIRES_ACTION:
        abandon_waiting_attempt(payment, f"order {order.order_number} cancelled")
    elif payment.status in (PaymentStatus.COMPLETED, PaymentStatus.PARTIALLY_REFUNDED):
        if rules.has_open_dispute(payment):
            # The bank may still take the money back: a refund now could return it twice. The
            # dispute's close gives back what is left (disputes.dispute_record).
            logger.warning(
                "cancelled_order_refund_waits_for_dispute", order_id=order.pk, payment_id=payment.pk
            )
            return
        refundable = rules.refundable(payment, totals)
        # One automatic refund per cancellation: when the gateway refuses it (money taken
        # offline, a charge it no longer knows) or fails it later (a refund_reversal), reopening
        # it would loop forever; the payment is left to Finance and the alert check names it.
        refused = rules.cancellation_refund_failed(payment, reason)
        if refundable > 0 and not refused:
            open_operation(payment, TransactionType.REFUND, refundable, reason=reason)
        elif refundable > 0:
            logger.warning(
                "cancelled_order_refund_refused",
                order_id=order.pk,
                payment_id=payment.pk,
                refundable=str(refundable),
            )

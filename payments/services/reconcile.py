"""Reconciliation: ask the gateway what became of a pending row, and apply the truth."""

from dataclasses import dataclass, field

from gamarriando.errors import ApplicationError, PermissionDeniedError
from gamarriando.queue import enqueue_on_commit
from orders.models import OrderStatus
from payments.gateways.registry import get_gateway
from payments.models import PaymentStatus
from payments.permissions import PaymentPermission
from payments.services.charge import payment_execute_transaction
from payments.services.gateway_results import payment_apply_gateway_result
from payments.services.ledger_core import is_called_off
from payments.services.offline import ledger_record_settled_row
from payments.services.settlement import payment_abandon_attempt
from transactions.models import Transaction, TransactionStatus


@dataclass
class ReconcileReport:
    """What one reconciliation run checked, repaired and could not match."""

    checked: int = 0
    repaired: list[str] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)


def ledger_record_what_the_gateway_did(
    payment, kind: str, amount, reference: str, reason: str, report: ReconcileReport
) -> ApplicationError | None:
    """Append a settled row for what the gateway did without us and add it to the report.

    Returns the error when the ledger refuses it (already recorded, or no longer possible);
    each gateway's reconciliation decides what that means for its report.
    """
    try:
        ledger_record_settled_row(
            payment_id=payment.pk,
            actor=None,
            transaction_type=kind,
            amount=amount,
            reason=reason,
            gateway_transaction_id=reference,
        )
    except ApplicationError as exc:
        return exc
    report.repaired.append(f"payment {payment.pk}: recorded {kind} {amount} ({reference})")
    return None


def payment_reconcile_transaction(*, transaction_id: int) -> None:
    """Ask the gateway what became of a pending row and apply the truth; re-send what it never saw."""
    txn = Transaction.objects.select_related("payment__order").get(pk=transaction_id)
    if txn.status != TransactionStatus.PENDING:
        return
    gateway = get_gateway(txn.payment.payment_method)
    if (
        txn.payment.status == PaymentStatus.REQUIRES_ACTION
        and (is_called_off(txn) or txn.payment.order.status == OrderStatus.CANCELLED)
        and gateway.abandons_attempts
    ):
        # Cancelled (the payment, or its order), and the message that was to call the attempt
        # off may have been lost.
        payment_abandon_attempt(transaction_id=transaction_id)
        return
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
    if not (actor.has_perm(PaymentPermission.REFUND) or actor.has_perm(PaymentPermission.CAPTURE)):
        raise PermissionDeniedError("Your role may not reconcile payments.")
    pending = list(
        Transaction.objects.filter(payment_id=payment_id, status=TransactionStatus.PENDING)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for transaction_id in pending:
        enqueue_on_commit("payments.reconcile_transaction", transaction_id=transaction_id)
    return len(pending)

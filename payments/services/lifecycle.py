"""A payment's own life before money moves: create, change, cancel."""

from decimal import Decimal

from django.db import connection, transaction

from gamarriando import events
from gamarriando.errors import AmountMismatch, PaymentMethodError, field_error, invalid_status
from gamarriando.event_types import EventType
from gamarriando.idempotency import owns_transaction
from gamarriando.insert_sql import next_id_sql
from orders.models import Order, OrderStatus
from payments.gateways.registry import get_gateway
from payments.models import Payment, PaymentStatus, PaymentStatusHistory
from payments.permissions import PaymentPermission, require_owner, require_owner_or_permission
from payments.services.amounts import check_fits_balance, checked_amount
from payments.services.capture_void import open_void
from payments.services.ledger_core import (
    abandon_waiting_attempt,
    lock_payment,
    payment_event_data,
    set_status,
)


def payment_create(
    *,
    user,
    order_id: int,
    payment_method: str,
    amount: Decimal,
    currency: str | None = None,
    metadata: dict | None = None,
) -> Payment:
    """Open a pending payment for part or all of an order's uncovered balance.

    Raises:
        ValidationFailed: the order is not the caller's or the amount has too many decimals.
        PaymentMethodError: the method is not enabled or does not take this currency.
        InvalidStatus: the order is not pending.
        AmountMismatch: the currency differs from the order's or the amount exceeds the balance.
    """
    gateway = get_gateway(payment_method)
    # Inside a keyed request's transaction a savepoint buys nothing (idempotency.owns_transaction).
    with transaction.atomic(savepoint=not owns_transaction()):
        order, payment_id = _lock_order_drawing_payment_id(order_id, user)
        if order is None:
            raise field_error("order_id", "No such order.")
        if order.status != OrderStatus.PENDING:
            raise invalid_status(order.status, "Only a pending order can take payments.")
        currency = currency or order.currency
        if currency != order.currency:
            raise AmountMismatch(
                f"The order is in {order.currency}.", details={"currency": order.currency}
            )
        _check_takes(gateway, currency)
        amount = checked_amount(amount, currency)
        check_fits_balance(order, amount)
        payment = Payment(
            id=payment_id,
            order=order,
            payment_method=payment_method,
            amount=amount,
            currency=currency,
            metadata=metadata or {},
        )
        history = PaymentStatusHistory(
            payment=payment, to_status=PaymentStatus.PENDING, actor=user, reason="created"
        )
        events.insert_and_publish(
            [[payment], [history]],
            EventType.PAYMENT_CREATED,
            lambda: (payment_event_data(payment), order.pk),
        )
    return payment


def _check_takes(gateway, currency: str) -> None:
    """Refuse a method that cannot take the payment's currency (PayPal takes no PEN).

    Raises:
        PaymentMethodError: the gateway does not take the currency.
    """
    if currency not in gateway.currencies:
        raise PaymentMethodError(f"{gateway.name} does not take {currency}.")


def _lock_order_drawing_payment_id(order_id: int, user) -> tuple[Order | None, int | None]:
    """Lock the user's order; on PostgreSQL draw the new payment's id in the same statement."""
    if connection.vendor != "postgresql":
        return Order.objects.select_for_update().filter(pk=order_id, user=user).first(), None
    orders = connection.ops.quote_name(Order._meta.db_table)
    sql = (
        # S608: the expression and the table name come from the models' _meta.
        f"SELECT *, {next_id_sql(Payment)} AS next_payment_id FROM {orders}"  # noqa: S608
        " WHERE id = %s AND user_id = %s FOR UPDATE"
    )
    found = list(Order.objects.raw(sql, [order_id, user.pk]))
    return (found[0], found[0].next_payment_id) if found else (None, None)


def payment_update(
    *, payment_id: int, actor, payment_method: str | None = None, amount: Decimal | None = None
) -> Payment:
    """Change the method or amount of a pending payment.

    Raises:
        PermissionDeniedError: the actor does not own the order.
        InvalidStatus: the payment is no longer pending.
        PaymentMethodError: the new method is not enabled or does not take the currency.
        AmountMismatch: the new amount exceeds the order's uncovered balance.
    """
    gateway = get_gateway(payment_method) if payment_method is not None else None
    with transaction.atomic():
        order, payment = lock_payment(payment_id)
        require_owner(actor, order.user_id)
        if payment.status != PaymentStatus.PENDING:
            raise invalid_status(payment.status, "Only a pending payment can be changed.")
        if gateway is not None:
            _check_takes(gateway, payment.currency)
            payment.payment_method = payment_method
        if amount is not None:
            amount = checked_amount(amount, payment.currency)
            check_fits_balance(order, amount, exclude_payment_id=payment.pk)
            payment.amount = amount
        payment.save()
    return payment


def payment_cancel(*, payment_id: int, actor, reason: str = "") -> Payment:
    """Cancel a pending payment, void an authorized one, call off one waiting for the buyer.

    `reason` (a clerk's words) goes on the history row or the void's ledger row.

    Raises:
        PermissionDeniedError: neither the owner nor staff who may capture and void.
        InvalidStatus: the payment is not pending, authorized or requires_action, or an
            operation is in flight.
    """
    with transaction.atomic():
        order, payment = lock_payment(payment_id)
        require_owner_or_permission(
            actor,
            order.user_id,
            PaymentPermission.CAPTURE,
            "Your role may view payments but not cancel them.",
        )
        if payment.status == PaymentStatus.PENDING:
            set_status(payment, PaymentStatus.CANCELLED, actor=actor, reason=reason or "cancelled")
            payment.save(update_fields=["status", "updated_at"])
        elif payment.status == PaymentStatus.AUTHORIZED:
            open_void(payment, actor=actor, reason=reason)
        elif payment.status == PaymentStatus.REQUIRES_ACTION:
            # The gateway calls the attempt off in a worker; the payment is then cancelled.
            who = getattr(actor, "email", "") or "system"
            if not abandon_waiting_attempt(payment, f"payment cancelled by {who}"):
                raise invalid_status(
                    payment.status,
                    "This payment waits for the buyer at a gateway that cannot call it off; "
                    "cancel the order instead (an approval that arrives later is refunded).",
                )
        else:
            raise invalid_status(
                payment.status,
                "Only a pending, authorized or requires_action payment can be cancelled.",
            )
    return payment

"""How much a payment may take: the currency's decimals and what the order leaves uncovered."""

from decimal import Decimal

from django.db import connection

from gamarriando import money
from gamarriando.errors import AmountMismatch, field_error
from orders.models import Order
from payments.models import Payment
from payments.transitions import LIVE

ZERO = Decimal("0")


def checked_amount(value: Decimal, currency: str, field: str = "amount") -> Decimal:
    """Return the amount if the currency allows its decimals, else a field error."""
    try:
        return money.check_scale(value, currency)
    except money.MoneyError as exc:
        raise field_error(field, str(exc)) from exc


def uncovered_balance(order: Order, *, exclude_payment_id: int | None = None) -> Decimal:
    """Return what of the order is neither paid nor promised by another live payment."""
    # Each live payment's amount, summed here: the ORM's filtered aggregate cost a fifth of a
    # payment create to build and compile (docs/benchmarks.md, round 7). raw() still converts
    # each amount to a Decimal, as the ORM does on every database.
    statuses = sorted(LIVE)
    sql = (
        # S608: the table name is the model's; the values are bound.
        f"SELECT id, amount FROM {connection.ops.quote_name(Payment._meta.db_table)}"  # noqa: S608
        f" WHERE order_id = %s AND status IN ({', '.join(['%s'] * len(statuses))})"
    )
    promised = sum(
        (
            payment.amount
            for payment in Payment.objects.raw(sql, [order.pk, *statuses])
            if payment.pk != exclude_payment_id
        ),
        ZERO,
    )
    return order.total_amount - order.amount_paid - promised


def check_fits_balance(
    order: Order, amount: Decimal, *, exclude_payment_id: int | None = None, message=None
) -> None:
    """Refuse an amount above what the locked order's other live payments leave uncovered.

    Raises:
        AmountMismatch: with the uncovered balance as `balance_due`.
    """
    available = uncovered_balance(order, exclude_payment_id=exclude_payment_id)
    if amount > available:
        raise AmountMismatch(
            message,
            details={"balance_due": money.format_amount(max(available, ZERO), order.currency)},
        )

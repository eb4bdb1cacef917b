"""Limits on charging: attempts per payment, and failed attempts per customer (card testing)."""

from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Min
from django.utils import timezone

from gamarriando.limits import limit_exceeded
from orders.models import Order
from payments.gateways.base import FailureCode
from payments.gateways.wallet import WALLET
from payments.models import Payment
from transactions.models import Transaction, TransactionStatus, TransactionType

FAILED_ATTEMPTS_WINDOW = timedelta(hours=1)


def check_process_limits(payment: Payment, user_id: int) -> None:
    """Refuse one more processing attempt once the payment or its customer has used theirs.

    Raises:
        LimitExceeded: ``process_attempts`` (never resets: a new payment is needed) or
            ``failed_attempts`` (resets an hour after the oldest failure in the window).
    """
    most = settings.PAYMENT_MAX_PROCESS_ATTEMPTS
    if payment.attempts >= most:
        raise limit_exceeded("process_attempts", max=most)
    since = timezone.now() - FAILED_ATTEMPTS_WINDOW
    most = settings.PAYMENT_MAX_FAILED_ATTEMPTS_PER_HOUR
    if _failed_attempts(user_id, since) >= most:
        oldest = _failed(user_id, since).aggregate(oldest=Min("processed_at"))["oldest"]
        raise limit_exceeded("failed_attempts", resets_at=oldest + FAILED_ATTEMPTS_WINDOW, max=most)


def _failed(user_id: int, since):
    # An attempt we called off (the buyer left 3-D Secure, the order was cancelled) is no
    # decline: counting it would lock out a shopper who never had a card refused. Nor is a
    # store-credit attempt (short of credit, or its hold expired): no card is tried there.
    return (
        Transaction.objects.filter(
            payment__order__user_id=user_id,
            transaction_type__in=[TransactionType.CHARGE, TransactionType.AUTHORIZATION],
            status=TransactionStatus.FAILED,
            processed_at__gte=since,
        )
        .exclude(failure_reason=FailureCode.CANCELED)
        .exclude(payment__payment_method=WALLET)
    )


def _failed_attempts(user_id: int, since) -> int:
    """Count the customer's failed attempts since then: _failed's count, written by hand."""
    # Building and compiling the ORM's two-join aggregate was a fifth of a process request's
    # CPU (docs/benchmarks.md, round 7); tests/test_limits_business.py holds the two equal.
    quote = connection.ops.quote_name
    ledger, payments, orders = (
        quote(model._meta.db_table) for model in (Transaction, Payment, Order)
    )
    sql = (
        # S608: table names from the models' _meta; the values are bound.
        f"SELECT count(*) FROM {ledger} t"  # noqa: S608
        f" JOIN {payments} p ON p.id = t.payment_id JOIN {orders} o ON o.id = p.order_id"
        " WHERE o.user_id = %s AND t.transaction_type IN (%s, %s) AND t.status = %s"
        " AND t.processed_at >= %s AND t.failure_reason <> %s AND p.payment_method <> %s"
    )
    params = [
        user_id,
        TransactionType.CHARGE.value,
        TransactionType.AUTHORIZATION.value,
        TransactionStatus.FAILED.value,
        # As the ORM binds a DateTimeField's value (SQLite compares datetimes as text).
        connection.ops.adapt_datetimefield_value(since),
        FailureCode.CANCELED.value,
        WALLET,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]

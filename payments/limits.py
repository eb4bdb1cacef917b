"""Limits on charging: attempts per payment, and failed attempts per customer (card testing)."""

from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Min
from django.utils import timezone

from gamarriando.limits import limit_exceeded
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
    failed = Transaction.objects.filter(
        payment__order__user_id=user_id,
        transaction_type__in=[TransactionType.CHARGE, TransactionType.AUTHORIZATION],
        status=TransactionStatus.FAILED,
        processed_at__gte=since,
    ).aggregate(count=Count("pk"), oldest=Min("processed_at"))
    most = settings.PAYMENT_MAX_FAILED_ATTEMPTS_PER_HOUR
    if failed["count"] >= most:
        raise limit_exceeded(
            "failed_attempts", resets_at=failed["oldest"] + FAILED_ATTEMPTS_WINDOW, max=most
        )

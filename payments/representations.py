"""The payment's JSON shape, built straight from the model object.

As orders.representations does for orders: DRF deep-copies every declared field of
`payments.api.PaymentOutputSerializer` for each payment it renders, which was most of the
serializer's cost in every payment write's answer (docs/benchmarks.md, round 7). The
serializer keeps declaring the fields for the OpenAPI schema and delegates rendering here;
payments/tests/test_payment_representation.py holds the two equal.
"""

from gamarriando.fields import datetime_data
from gamarriando.money import format_amount
from payments import selectors


def _text(value):
    return None if value is None else str(value)


def dispute_status(payment) -> str | None:
    """Return the latest dispute's status (annotated by payment_visible_to, else read)."""
    if hasattr(payment, "dispute_status"):
        return payment.dispute_status
    latest = payment.disputes.order_by("-created_at", "-pk").first()
    return latest.status if latest else None


def payment_data(payment) -> dict:
    """Render one payment as the API answers it."""
    currency = payment.currency
    metadata = payment.metadata
    return {
        "id": payment.pk,
        "order_id": payment.order_id,
        "payment_method": _text(payment.payment_method),
        "amount": format_amount(payment.amount, currency),
        "currency": _text(currency),
        "status": _text(payment.status),
        "captured_amount": format_amount(payment.captured_amount, currency),
        "refunded_amount": format_amount(payment.refunded_amount, currency),
        "refundable_amount": format_amount(selectors.refundable_amount(payment), currency),
        "gateway_transaction_id": _text(payment.gateway_transaction_id),
        "failure_code": _text(payment.failure_code),
        "failure_message": _text(payment.failure_message),
        "next_action": payment.next_action,
        "disputed": None if payment.disputed is None else bool(payment.disputed),
        "dispute_status": dispute_status(payment),
        "metadata": None
        if metadata is None
        else {str(key): _text(value) for key, value in metadata.items()},
        "saved_payment_method_id": payment.saved_payment_method_id,
        "wallet": _text(payment.wallet),
        "processed_at": datetime_data(payment.processed_at),
        "created_at": datetime_data(payment.created_at),
        "updated_at": datetime_data(payment.updated_at),
    }

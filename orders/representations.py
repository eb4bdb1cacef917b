"""The order's JSON shape, built straight from the model objects.

DRF builds a serializer's fields for every instance it renders (a deep copy of each declared
field, nested ones included), which was a fifth of an order detail and a third of the order
list in the profile (docs/benchmarks.md). These functions return exactly what the declared
fields of `orders.api.OrderOutputSerializer` would; the serializers keep declaring the fields
for the OpenAPI schema and delegate rendering here, and a test holds the two equal.
"""

from gamarriando.fields import datetime_data
from gamarriando.money import format_amount

ADDRESS_FIELDS = ("street", "city", "state", "postal_code", "country")


def address_data(address):
    """Render a stored address with the declared address fields, in their order."""
    if address is None:
        return None
    return {
        name: None if address.get(name) is None else str(address[name]) for name in ADDRESS_FIELDS
    }


def product_data(product) -> dict:
    """Render one catalog product."""
    return {
        "id": product.pk,
        "sku": product.sku,
        "name": product.name,
        "price": format_amount(product.price, product.currency),
        "currency": product.currency,
        "stock": product.stock,
    }


def item_data(item, currency: str) -> dict:
    """Render one order line."""
    return {
        "id": item.pk,
        "product_id": item.product_id,
        "quantity": item.quantity,
        "unit_price": format_amount(item.unit_price, currency),
        "total_price": format_amount(item.total_price, currency),
    }


def payment_summary_data(payment) -> dict:
    """Render the payment fields an order shows."""
    return {
        "id": payment.pk,
        "payment_method": str(payment.payment_method),
        "amount": format_amount(payment.amount, payment.currency),
        "currency": str(payment.currency),
        "status": str(payment.status),
        "captured_amount": format_amount(payment.captured_amount, payment.currency),
        "refunded_amount": format_amount(payment.refunded_amount, payment.currency),
        "metadata": _string_dict(payment.metadata),
        "wallet": None if payment.wallet is None else str(payment.wallet),
        "created_at": datetime_data(payment.created_at),
    }


def _string_dict(value):
    """Render a dict of strings as DRF's DictField(child=CharField()) does."""
    return None if value is None else {str(key): str(item) for key, item in value.items()}


def order_data(order) -> dict:
    """Render an order with its lines and payments (selectors.attach_details's lists)."""
    currency = order.currency
    items = getattr(order, "item_list", None)
    if items is None:
        items = order.items.order_by("pk")
    payments = getattr(order, "payment_list", None)
    if payments is None:
        payments = order.payments.order_by("pk")
    return {
        "id": order.pk,
        "order_number": order.order_number,
        "status": str(order.status),
        "currency": currency,
        "total_amount": format_amount(order.total_amount, currency),
        "amount_paid": format_amount(order.amount_paid, currency),
        "amount_refunded": format_amount(order.amount_refunded, currency),
        "balance_due": format_amount(order.balance_due, currency),
        "items": [item_data(item, currency) for item in items],
        "shipping_address": address_data(order.shipping_address),
        "billing_address": address_data(order.billing_address),
        "notes": order.notes,
        "payments": [payment_summary_data(payment) for payment in payments],
        "created_at": datetime_data(order.created_at),
        "updated_at": datetime_data(order.updated_at),
        "expires_at": datetime_data(order.expires_at),
    }

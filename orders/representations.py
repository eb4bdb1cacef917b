"""The order's JSON shape, built straight from the model objects.

DRF builds a serializer's fields for every instance it renders (a deep copy of each declared
field, nested ones included), which was a fifth of an order detail and a third of the order
list in the profile (docs/benchmarks.md). These functions return exactly what the declared
fields of `orders.api.OrderOutputSerializer` would; the serializers keep declaring the fields
for the OpenAPI schema and delegate rendering here, and a test holds the two equal.
"""

import json

from gamarriando import json_codec
from gamarriando.fields import datetime_data
from gamarriando.json_sql import rendered_json
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
        "metadata": string_dict(payment.metadata),
        "wallet": None if payment.wallet is None else str(payment.wallet),
        "created_at": datetime_data(payment.created_at),
    }


def string_dict(value):
    """Render a dict of strings as DRF's DictField(child=CharField()) does."""
    return None if value is None else {str(key): str(item) for key, item in value.items()}


def order_data(order) -> dict:
    """Render an order with its lines and payments (selectors.attach_details's lists)."""
    rendered = rendered_json(order)
    if rendered is not None:  # PostgreSQL wrote it (selectors.with_details, rendered_rows)
        return order_data_from_json(rendered)
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


def _plain(mapping) -> bool:
    """Tell whether a stored JSON object holds only text, integers, booleans and nulls."""
    return mapping is None or all(
        value is None or isinstance(value, str | int) for value in mapping.values()
    )


def order_data_from_json(text: str) -> dict:
    """Finish an order rendered by representation_sql: its addresses and payments' metadata."""
    data = json_codec.loads(text)
    # Everything but the stored addresses and metadata is written by our SQL from integer and
    # text columns. Those two are free JSON: a float, a nested value or an integer beyond 64
    # bits (which orjson reads as a float) sends the text to json, whose str() is order_data's.
    stored = [data["shipping_address"], data["billing_address"]]
    stored += [payment["metadata"] for payment in data["payments"]]
    if not all(_plain(mapping) for mapping in stored):
        data = json.loads(text)
    data["shipping_address"] = address_data(data["shipping_address"])
    data["billing_address"] = address_data(data["billing_address"])
    for payment in data["payments"]:
        payment["metadata"] = string_dict(payment["metadata"])
    return data

"""Requests the order tests share."""


def create(client, items, address, **extra):
    return client.post(
        "/api/v1/orders", {"items": items, "shipping_address": address, **extra}, format="json"
    )

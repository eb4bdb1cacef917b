"""Addresses and form steps of the money screens, as a clerk's browser takes them."""


def operation_url(payment, name):
    return f"/admin/payments/payment/{payment.pk}/{name}/"


def submit(client, url, **data):
    """Post the form, then the confirmation step with the same nonce."""
    form = client.get(url).context["form"]
    nonce = str(form.initial["nonce"])
    first = client.post(url, {"nonce": nonce, **data})
    assert first.status_code == 200 and first.context["confirming"], getattr(first, "context", None)
    return client.post(url, {"nonce": nonce, "confirm": "True", **data}), nonce

"""Addresses, form steps and sign-in of the back-office tests, as a clerk's browser takes them."""

PASSWORD = "s3cret-Passw0rd!"
LOGIN = "/admin/login/"


def operation_url(payment, name):
    return f"/admin/payments/payment/{payment.pk}/{name}/"


def form_nonce(client, url) -> str:
    """Open a screen's form, as the clerk's browser does, and return its one-time nonce."""
    return str(client.get(url).context["form"].initial["nonce"])


def submit(client, url, **data):
    """Post the form, then the confirmation step with the same nonce."""
    nonce = form_nonce(client, url)
    first = client.post(url, {"nonce": nonce, **data})
    assert first.status_code == 200 and first.context["confirming"], getattr(first, "context", None)
    return client.post(url, {"nonce": nonce, "confirm": "True", **data}), nonce


def sign_in(client, email, password=PASSWORD, code="", **headers):
    return client.post(
        LOGIN,
        {"username": email, "password": password, "otp_token": code, "next": "/admin/"},
        **headers,
    )


def signed_in_to_admin(client) -> bool:
    return client.get("/admin/").status_code == 200

"""Register, token, refresh with rotation and blacklist, me."""

import pytest
from django.test import override_settings

from gamarriando.users.models import User

pytestmark = pytest.mark.django_db
PASSWORD = "s3cret-Passw0rd!"


def test_register_then_token_then_me(api):
    client = api()
    response = client.post(
        "/api/v1/auth/register",
        {"email": "Nueva@Example.com", "password": "Tela-Gamarra-2026", "first_name": "Rosa"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert set(response.json()) == {"id", "email", "first_name", "last_name"}
    assert response.json()["email"] == "nueva@example.com"
    tokens = client.post(
        "/api/v1/auth/token",
        {"email": "nueva@example.com", "password": "Tela-Gamarra-2026"},
        format="json",
    )
    assert tokens.status_code == 200
    assert set(tokens.json()) == {"access", "refresh"}
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens.json()['access']}")
    me = client.get("/api/v1/auth/me")
    assert me.json() == {
        "id": response.json()["id"],
        "email": "nueva@example.com",
        "first_name": "Rosa",
        "last_name": "",
        "is_staff": False,
    }


def test_register_rejects_duplicate_email_and_weak_password(api, customer):
    response = api().post(
        "/api/v1/auth/register",
        {"email": "CUSTOMER@example.com", "password": "Tela-Gamarra-2026"},
        format="json",
    )
    assert response.status_code == 400
    assert "email" in response.json()["error"]["details"]
    response = api().post(
        "/api/v1/auth/register", {"email": "weak@example.com", "password": "123"}, format="json"
    )
    assert response.status_code == 400
    assert "password" in response.json()["error"]["details"]
    assert not User.objects.filter(email="weak@example.com").exists()


def test_wrong_password_is_401(api, customer):
    response = api().post(
        "/api/v1/auth/token", {"email": customer.email, "password": "wrong"}, format="json"
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "NOT_AUTHENTICATED"


def test_refresh_rotates_and_blacklists_the_old_token(api, customer):
    client = api()
    pair = client.post(
        "/api/v1/auth/token", {"email": customer.email, "password": PASSWORD}, format="json"
    ).json()
    rotated = client.post("/api/v1/auth/token/refresh", {"refresh": pair["refresh"]}, format="json")
    assert rotated.status_code == 200
    assert set(rotated.json()) == {"access", "refresh"}
    assert rotated.json()["refresh"] != pair["refresh"]
    reused = client.post("/api/v1/auth/token/refresh/", {"refresh": pair["refresh"]}, format="json")
    assert reused.status_code == 401
    assert reused.json()["error"]["code"] == "NOT_AUTHENTICATED"


@pytest.mark.parametrize("header", [None, "Bearer nonsense", "Token abc", "Bearer "])
def test_missing_or_bad_token_is_401(api, header):
    client = api()
    if header is not None:
        client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get("/api/v1/orders")
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == "NOT_AUTHENTICATED"
    # simplejwt's detail is a dict: the message is its text, not the dict's repr.
    assert error["message"] and "ErrorDetail" not in error["message"]
    assert "{" not in error["message"]


def test_expired_access_token_is_401(api, customer):
    from datetime import timedelta

    from rest_framework_simplejwt.tokens import AccessToken

    token = AccessToken.for_user(customer)
    token.set_exp(lifetime=-timedelta(seconds=1))
    client = api()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.get("/api/v1/auth/me").status_code == 401


def test_token_lifetimes_are_15_minutes_and_7_days():
    from django.conf import settings

    assert settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds() == 15 * 60
    assert settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"].days == 7


def test_groups_hold_the_contract_permissions(staff_groups):
    finance = {
        f"{p.content_type.app_label}.{p.codename}"
        for p in staff_groups["Finance"].permissions.all()
    }
    support = {
        f"{p.content_type.app_label}.{p.codename}"
        for p in staff_groups["Support"].permissions.all()
    }
    assert {
        "payments.refund_payment",
        "payments.capture_payment",
        "transactions.add_transaction",
        "orders.change_order",
    } <= finance
    assert {
        "orders.view_order",
        "payments.view_payment",
        "transactions.view_transaction",
    } <= support
    assert all(p.split(".")[1].startswith("view_") for p in support)


@override_settings(
    CACHES={
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "throttle-test",
        }
    }
)
def test_order_creation_is_throttled_with_retry_after(api, customer, product, address, settings):
    from rest_framework.settings import api_settings
    from rest_framework.throttling import SimpleRateThrottle

    rates = {**api_settings.DEFAULT_THROTTLE_RATES, "orders_create": "2/min"}
    original = SimpleRateThrottle.THROTTLE_RATES
    SimpleRateThrottle.THROTTLE_RATES = rates
    try:
        client = api(customer)
        body = {"items": [{"product_id": product.pk, "quantity": 1}], "shipping_address": address}
        codes = [client.post("/api/v1/orders", body, format="json").status_code for _ in range(3)]
        assert codes == [201, 201, 429]
        limited = client.post("/api/v1/orders", body, format="json")
        assert limited.json()["error"]["code"] == "RATE_LIMITED"
        assert int(limited["Retry-After"]) >= 1
        assert client.get("/api/v1/orders").status_code == 200
    finally:
        SimpleRateThrottle.THROTTLE_RATES = original

"""Throttles (issue 18 items 2, 8, 14): who a client is, per account, refresh, registration, money."""

import uuid

import pytest
from rest_framework.throttling import SimpleRateThrottle

from tests.factories import UserFactory
from tests.helpers import make_order, make_paid, make_payment

pytestmark = pytest.mark.django_db


@pytest.fixture
def rates(settings):
    """Give one test its own in-memory counters and the throttle rates it names."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"throttles-{uuid.uuid4().hex}",
        }
    }
    original = SimpleRateThrottle.THROTTLE_RATES
    # DRF reads the rates once at import, so a test sets them on the class.
    everything_open = {scope: "1000/min" for scope in original}

    def set_rates(**overrides):
        SimpleRateThrottle.THROTTLE_RATES = {**everything_open, **overrides}

    set_rates()
    yield set_rates
    SimpleRateThrottle.THROTTLE_RATES = original


def _token(client, email, **extra):
    return client.post(
        "/api/v1/auth/token", {"email": email, "password": "wrong"}, format="json", **extra
    )


def test_a_made_up_forwarded_for_does_not_open_a_fresh_bucket(api, rates):
    rates(auth="3/min")
    client = api()
    codes = [
        _token(client, f"guess{i}@example.com", HTTP_X_FORWARDED_FOR=f"203.0.113.{i}").status_code
        for i in range(5)
    ]
    assert codes == [401, 401, 401, 429, 429]


def test_behind_a_trusted_proxy_the_client_is_the_address_the_proxy_appended(api, rates, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    rates(auth="3/min")
    client = api()
    codes = [
        _token(
            client,
            f"guess{i}@example.com",
            HTTP_X_FORWARDED_FOR=f"10.9.{i}.1, 198.51.100.7",  # the first entry is forged
            REMOTE_ADDR="10.0.0.2",
        ).status_code
        for i in range(4)
    ]
    assert codes == [401, 401, 401, 429]
    other = _token(
        client, "guess@example.com", HTTP_X_FORWARDED_FOR="198.51.100.8", REMOTE_ADDR="10.0.0.2"
    )
    assert other.status_code == 401  # another real client keeps its own bucket


def test_trusted_proxies_default_to_none():
    from django.conf import settings

    assert settings.TRUSTED_PROXIES == 0
    assert settings.REST_FRAMEWORK["NUM_PROXIES"] == 0


def test_sign_in_is_throttled_per_account_from_any_address(api, rates, customer):
    rates(auth_account="3/min")
    client = api()
    codes = [
        _token(
            client,
            customer.email.upper() if i % 2 else customer.email,
            REMOTE_ADDR=f"192.0.2.{i}",
            HTTP_X_FORWARDED_FOR=f"203.0.113.{i}",
        ).status_code
        for i in range(5)
    ]
    assert codes == [401, 401, 401, 429, 429]
    limited = _token(client, customer.email, REMOTE_ADDR="192.0.2.99")
    assert limited.json()["error"]["code"] == "RATE_LIMITED"
    assert int(limited["Retry-After"]) >= 1
    assert _token(client, "someone-else@example.com", REMOTE_ADDR="192.0.2.99").status_code == 401


# PostgreSQL's UPPER() folds these to "S" and "I" as iexact compares; Python's lower(), the
# throttle's key, keeps them apart (QA finding 2).
LOOK_ALIKES = ["ſhopper1@gamarriando.pe", "shopper1@gamarrıando.pe", "SHOPPER1@GAMARRıANDO.PE"]


# PostgreSQL's UPPER() folds the look-alikes; SQLite's iexact never does.
@pytest.mark.postgres
@pytest.mark.parametrize("look_alike", LOOK_ALIKES)
def test_a_look_alike_spelling_neither_escapes_the_per_account_limit_nor_signs_in(
    api, rates, look_alike
):
    shopper = UserFactory(email="shopper1@gamarriando.pe")
    rates(auth_account="3/min")
    client = api()
    codes = [
        _token(client, shopper.email, REMOTE_ADDR=f"192.0.2.{i}").status_code for i in range(4)
    ]
    assert codes == [401, 401, 401, 429]
    body = {"email": look_alike, "password": "s3cret-Passw0rd!"}
    answer = client.post("/api/v1/auth/token", body, format="json", REMOTE_ADDR="192.0.2.50")
    assert answer.status_code == 401, answer.json()
    assert "access" not in answer.json()


def test_the_stored_email_signs_in_in_any_ascii_case(api):
    shopper = UserFactory(email="shopper1@gamarriando.pe")
    for spelling in (shopper.email, shopper.email.upper(), " Shopper1@Gamarriando.PE "):
        body = {"email": spelling, "password": "s3cret-Passw0rd!"}
        assert api().post("/api/v1/auth/token", body, format="json").status_code == 200


def test_refresh_is_throttled_per_client(api, rates):
    rates(auth_refresh="2/min")
    client = api()
    codes = [
        client.post(
            "/api/v1/auth/token/refresh",
            {"refresh": "not-a-token"},
            format="json",
            HTTP_X_FORWARDED_FOR=f"203.0.113.{i}",
        ).status_code
        for i in range(3)
    ]
    assert codes == [401, 401, 429]


def test_registration_is_throttled_strongly_per_client(api, rates, customer):
    """Registration answers a taken email with 400 (the contract), so a client gets few tries."""
    rates(register="3/hour")
    client = api()

    def register(email, n):
        return client.post(
            "/api/v1/auth/register",
            {"email": email, "password": "Tela-Gamarra-2026"},
            format="json",
            HTTP_X_FORWARDED_FOR=f"203.0.113.{n}",
        )

    assert register(customer.email, 0).status_code == 400
    assert register("new-one@example.com", 1).status_code == 201
    assert register("other@example.com", 2).status_code == 201
    limited = register("probe@example.com", 3)
    assert limited.status_code == 429
    assert int(limited["Retry-After"]) > 60  # an hourly bucket, not a burst limit


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("action", ["create", "process", "refund"])
def test_money_writes_are_throttled_per_user(api, rates, product, action):
    rates(**{f"payments_{action}": "2/min"})
    buyer, other = UserFactory(), UserFactory()

    def attempt(user):
        order = make_order(user, product)
        client = api(user)
        if action == "create":
            body = {"order_id": order.pk, "payment_method": "simulated", "amount": "50.00"}
            return client.post("/api/v1/payments", body, format="json")
        if action == "process":
            payment = make_payment(user, order)
            body = {"payment_method_id": "tok_success"}
            return client.post(f"/api/v1/payments/{payment.pk}/process", body, format="json")
        _, payment = make_paid(user, product)
        body = {"reason": "changed my mind"}
        return client.post(f"/api/v1/payments/{payment.pk}/refund", body, format="json")

    codes = [attempt(buyer).status_code for _ in range(3)]
    assert codes[:2] == [{"create": 201, "process": 202, "refund": 202}[action]] * 2
    assert codes[2] == 429
    assert attempt(other).status_code != 429  # per user, not global

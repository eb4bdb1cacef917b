"""Fixtures shared by every app's tests: users with real JWTs, products, orders."""

import contextlib
from decimal import Decimal

import kombu.pools
import pytest
from django.apps import apps as django_apps
from django.contrib.auth.models import Group
from django.db import connection
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from gamarriando.users.groups import ensure_staff_groups
from orders.tests.factories import ADDRESS, ProductFactory
from tests.factories import UserFactory


def pytest_collection_modifyitems(config, items):
    """Skip tests marked postgres when the suite runs on SQLite."""
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL row locks; set DATABASE_URL to run")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


def _reset_broker_connections(app) -> None:
    """Drop every cached broker connection and producer, here and in kombu's global registry.

    kombu keeps one pool per broker URL for the whole process; closing a pool without removing
    it from that registry leaves a closed pool for every later test ("Acquire on closed pool").
    """
    kombu.pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture(autouse=True)
def _isolate_celery_app():
    """Undo any change a test makes to the Celery app's configuration or connection pools."""
    from gamarriando.celery import app

    # Finalize a pending configuration first: before that, .changes is the whole configuration
    # (the settings' CELERY_* names included), and restoring it would outvote use_broker later.
    app.conf.broker_url  # noqa: B018
    changes = dict(app.conf.changes)
    pool, producer_pool = app._pool, app.amqp._producer_pool
    yield
    touched = (
        dict(app.conf.changes) != changes
        or app._pool is not pool
        or app.amqp._producer_pool is not producer_pool
    )
    if touched:
        app.conf.changes.clear()
        app.conf.changes.update(changes)
        _reset_broker_connections(app)


def _forget_outbox_kick() -> None:
    """Clear a kick another test left: its task went to a broker nobody reads."""
    from django.core.cache import cache

    from gamarriando.events import KICK_KEY

    with contextlib.suppress(Exception):  # a test that stopped Redis has no kick either
        cache.delete(KICK_KEY)


@pytest.fixture
def use_broker():
    """Switch the Celery app to a real broker URL for one test (tasks are queued, not inlined)."""
    from gamarriando.celery import app

    def switch(url: str):
        app.conf.task_always_eager = False
        app.conf.broker_url = url
        _reset_broker_connections(app)
        _forget_outbox_kick()
        return app

    return switch


@pytest.fixture
def api():
    """Return a factory of API clients signed in with a real access token."""

    def make(user=None):
        client = APIClient()
        if user is not None:
            token = RefreshToken.for_user(user).access_token
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        return client

    return make


@pytest.fixture
def staff_groups(db):
    ensure_staff_groups(django_apps)
    return {g.name: g for g in Group.objects.all()}


@pytest.fixture
def customer(db):
    return UserFactory(email="customer@example.com")


@pytest.fixture
def other_customer(db):
    return UserFactory(email="other@example.com")


@pytest.fixture
def finance(staff_groups):
    user = UserFactory(email="finance@example.com", is_staff=True)
    user.groups.add(staff_groups["Finance"])
    return user


@pytest.fixture
def support(staff_groups):
    user = UserFactory(email="support@example.com", is_staff=True)
    user.groups.add(staff_groups["Support"])
    return user


@pytest.fixture
def product(db):
    return ProductFactory(price=Decimal("50.00"), stock=10)


@pytest.fixture
def address():
    return dict(ADDRESS)


@pytest.fixture
def is_postgres():
    return connection.vendor == "postgresql"


@pytest.fixture
def fake_stripe():
    """Start the fake Stripe API and point the SDK (and so dj-stripe) at it."""
    import stripe

    from tests.fake_stripe import start_fake_stripe

    fake, server = start_fake_stripe()
    previous = stripe.api_base
    stripe.api_base = f"http://127.0.0.1:{server.server_address[1]}"
    yield fake
    stripe.api_base = previous
    server.shutdown()


@pytest.fixture
def fake_paypal(settings):
    """Start the fake PayPal API and point our PayPal client at it, with credentials set."""
    from tests.fake_paypal import WEBHOOK_ID, start_fake_paypal

    fake, server = start_fake_paypal()
    settings.PAYPAL_API_BASE = fake.base
    settings.PAYPAL_CLIENT_ID = "fake-client-id"
    settings.PAYPAL_CLIENT_SECRET = "fake-client-secret"
    settings.PAYPAL_WEBHOOK_ID = WEBHOOK_ID
    settings.PAYPAL_RETURN_URL = "https://shop.example.com/paypal/return"
    settings.PAYPAL_CANCEL_URL = "https://shop.example.com/paypal/cancel"
    settings.PAYPAL_TIMEOUT_SECONDS = 2
    yield fake
    server.shutdown()

"""Schemathesis over the whole API: no 5xx, and no answer that breaks the published schema."""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from rest_framework_simplejwt.tokens import RefreshToken
from schemathesis import checks

from gamarriando.wsgi import application
from orders.tests.factories import ProductFactory
from tests.factories import UserFactory

# The issue asks for no 5xx and no answer outside the schema. Business rules (password
# strength, catalog prices) refuse schema-valid bodies, and Django accepts RFC-valid emails
# and empty filters that JSON Schema formats call invalid, so the two data-acceptance
# checks would report those, not defects.
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
]
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)


@pytest.fixture(autouse=True)
def keep_test_connection():
    """Do what Django's test client does: don't close the test's connection after a request."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def bearer(transactional_db, fake_stripe):
    # Saved-method endpoints call Stripe (the local fake), which is refused inside a transaction:
    # so no test-wide transaction here, as in production.
    user = UserFactory(email="fuzz@example.com", is_staff=True, is_superuser=True)
    ProductFactory()
    return f"Bearer {RefreshToken.for_user(user).access_token}"


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_schema(case, bearer):
    case.call_and_validate(headers={"Authorization": bearer}, checks=CHECKS)

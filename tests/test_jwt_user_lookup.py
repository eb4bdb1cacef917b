"""The JWT user is read fresh on every request with a statement compiled once per process."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework_simplejwt.tokens import AccessToken

from gamarriando.users.authentication import user_by_id
from gamarriando.users.models import User

pytestmark = pytest.mark.django_db


def bearer(api, user):
    client = api()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    return client


def test_the_lookup_reads_the_same_user_as_the_orm(customer):
    found = user_by_id(customer.pk)
    expected = User.objects.get(pk=customer.pk)
    fields = [f.attname for f in User._meta.concrete_fields]
    assert [getattr(found, f) for f in fields] == [getattr(expected, f) for f in fields]
    assert found._state.adding is False and found._state.db == "default"
    assert user_by_id(customer.pk + 10_000) is None


def test_a_request_reads_the_user_in_one_statement(api, customer):
    client = bearer(api, customer)
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/v1/auth/me").status_code == 200
    user_reads = [q["sql"] for q in queries if '"users_user"' in q["sql"]]
    assert len(user_reads) == 1


def test_deactivation_and_deletion_take_effect_on_the_next_request(api, customer):
    client = bearer(api, customer)
    assert client.get("/api/v1/auth/me").status_code == 200
    User.objects.filter(pk=customer.pk).update(is_active=False)
    refused = client.get("/api/v1/auth/me")
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "NOT_AUTHENTICATED"
    User.objects.filter(pk=customer.pk).update(is_active=True)
    assert client.get("/api/v1/auth/me").status_code == 200
    customer.delete()
    assert client.get("/api/v1/auth/me").status_code == 401


def test_a_token_whose_user_id_is_not_a_number_is_refused(api, customer):
    token = AccessToken.for_user(customer)
    token["user_id"] = "not-a-number"
    client = api()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    response = client.get("/api/v1/auth/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "NOT_AUTHENTICATED"

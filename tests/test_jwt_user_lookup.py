"""The JWT user is read fresh on every request; a verified token is not decoded twice."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework_simplejwt.backends import TokenBackend
from rest_framework_simplejwt.tokens import AccessToken

from gamarriando.users import authentication
from gamarriando.users.authentication import user_by_id, verified_access_token
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


def _decodes(monkeypatch):
    """Count simplejwt's signature checks."""
    calls = []
    original = TokenBackend.decode

    def counting(self, token, verify=True):
        calls.append(token)
        return original(self, token, verify=verify)

    monkeypatch.setattr(TokenBackend, "decode", counting)
    return calls


def test_a_verified_token_is_not_decoded_again_but_its_user_is_read_again(
    api, customer, monkeypatch
):
    decodes = _decodes(monkeypatch)
    client = bearer(api, customer)
    for _ in range(3):
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/api/v1/auth/me").status_code == 200
        assert len([q for q in queries if '"users_user"' in q["sql"]]) == 1
    assert len(decodes) == 1


def test_a_remembered_token_is_refused_once_it_expires(api, customer):
    token = AccessToken.for_user(customer)
    client = api()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.get("/api/v1/auth/me").status_code == 200
    assert verified_access_token(str(token).encode()) is not None
    # the same bytes, once their "exp" has passed (for simplejwt too, should they reach it)
    with time_machine.travel(datetime.fromtimestamp(token["exp"], UTC), tick=False):
        refused = client.get("/api/v1/auth/me")
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "NOT_AUTHENTICATED"
    assert verified_access_token(str(token).encode()) is None


def test_a_tampered_token_is_refused_and_not_remembered(api, customer):
    header, payload, signature = str(AccessToken.for_user(customer)).split(".")
    # the first character carries six bits of the signature (the last may be padding only)
    forged = f"{header}.{payload}.{'B' if signature[0] == 'A' else 'A'}{signature[1:]}"
    client = api()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {forged}")
    assert client.get("/api/v1/auth/me").status_code == 401
    assert verified_access_token(forged.encode()) is None


def test_the_memory_of_tokens_is_bounded(api, customer, monkeypatch):
    monkeypatch.setattr(authentication, "VERIFIED_TOKENS_KEPT", 3)
    authentication._verified.clear()
    for _ in range(7):
        client = bearer(api, customer)
        assert client.get("/api/v1/auth/me").status_code == 200
        assert len(authentication._verified) <= 3

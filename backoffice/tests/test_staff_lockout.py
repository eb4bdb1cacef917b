"""Staff sign-in lockout (django-axes): per account and client address, also behind proxies."""

import runpy
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.test import override_settings

from backoffice.tests.helpers import PASSWORD, sign_in, signed_in_to_admin

BASE_SETTINGS = Path(__file__).resolve().parents[2] / "gamarriando" / "settings" / "base.py"
IPWARE_SETTINGS = (
    "AXES_IPWARE_META_PRECEDENCE_ORDER",
    "AXES_IPWARE_PROXY_ORDER",
    "AXES_IPWARE_PROXY_COUNT",
    "IPWARE_STRICT",
)

pytestmark = pytest.mark.django_db


def ipware_settings_for(monkeypatch, proxies: int) -> dict:
    """The client-address settings base.py derives from TRUSTED_PROXIES=proxies."""
    monkeypatch.setenv("TRUSTED_PROXIES", str(proxies))
    derived = runpy.run_path(str(BASE_SETTINGS))
    return {name: derived[name] for name in IPWARE_SETTINGS}


@override_settings(AXES_FAILURE_LIMIT=3)
def test_a_rotating_forwarded_for_does_not_escape_the_lockout(client, finance):
    # Each guess claims another client address and spells the email differently.
    answers = [
        sign_in(
            client,
            finance.email.upper() if attempt % 2 else finance.email,
            password=f"guess-{attempt}",
            HTTP_X_FORWARDED_FOR=f"81.2.69.{attempt + 1}",
        ).status_code
        for attempt in range(3)
    ]
    # The form again with its error, then the lockout from the failure that reaches the limit.
    assert answers == [200, 200, 429]

    locked = sign_in(client, finance.email, HTTP_X_FORWARDED_FOR="81.2.69.99")

    assert locked.status_code == 429
    assert "Sign-in locked" in locked.content.decode()
    assert not signed_in_to_admin(client)
    # With TRUSTED_PROXIES=0 the header is ignored: one count, under the socket's address.
    attempt = AccessAttempt.objects.get()
    assert (attempt.username, attempt.ip_address) == (finance.email, "127.0.0.1")


# PostgreSQL's UPPER() folds the look-alikes; SQLite's iexact never does.
@pytest.mark.postgres
@pytest.mark.parametrize("look_alike", ["ſupport@example.com", "ſUPPORT@EXAMPLE.COM"])
@override_settings(AXES_FAILURE_LIMIT=3)
def test_a_look_alike_spelling_neither_escapes_the_lockout_nor_signs_in(
    client, support, look_alike
):
    # PostgreSQL's UPPER() folds "ſ" to "S" (and "ı" to "I") as iexact compares; the lockout
    # counts under Python's lower(), which keeps them apart (QA finding 2).
    for attempt in range(3):
        sign_in(client, support.email, password=f"guess-{attempt}")
    assert sign_in(client, support.email).status_code == 429

    answer = sign_in(client, look_alike)

    # The form reads "ſ" as "s" (NFKC), so this is the same account: locked out as well.
    assert answer.status_code == 429
    assert not signed_in_to_admin(client)


# PostgreSQL's UPPER() folds the look-alikes; SQLite's iexact never does.
@pytest.mark.postgres
@pytest.mark.parametrize("look_alike", ["fınance@example.com", "FıNANCE@EXAMPLE.COM"])
def test_a_look_alike_spelling_does_not_sign_in_to_the_admin(client, finance, look_alike):
    assert sign_in(client, look_alike).status_code == 200  # the form again, with its error
    assert not signed_in_to_admin(client)
    assert sign_in(client, finance.email.upper()).status_code == 302  # ASCII case still does


@override_settings(AXES_FAILURE_LIMIT=3)
def test_the_lockout_is_per_account_and_address(client, finance, support):
    for attempt in range(3):
        sign_in(client, finance.email, password=f"guess-{attempt}")

    assert sign_in(client, finance.email).status_code == 429
    assert sign_in(client, support.email).status_code == 302
    assert sign_in(client, finance.email, REMOTE_ADDR="81.2.69.7").status_code == 302


@override_settings(AXES_FAILURE_LIMIT=3)
def test_behind_proxies_the_address_is_the_nth_from_the_right(client, finance, monkeypatch):
    # Two proxies: the outer one appends the client's address, the inner one the outer's.
    with override_settings(**ipware_settings_for(monkeypatch, proxies=2)):
        answers = [
            sign_in(
                client,
                finance.email,
                password=f"guess-{attempt}",
                HTTP_X_FORWARDED_FOR=(
                    ", ".join(f"81.2.69.{n}" for n in range(attempt + 1))
                    + ", 81.2.69.142, 10.0.0.2"
                ),
                REMOTE_ADDR="10.0.0.3",
            ).status_code
            for attempt in range(3)
        ]

        locked = sign_in(
            client,
            finance.email,
            HTTP_X_FORWARDED_FOR="81.2.69.200, 81.2.69.142, 10.0.0.2",
            REMOTE_ADDR="10.0.0.3",
        )
        other_client = sign_in(
            client,
            finance.email,
            HTTP_X_FORWARDED_FOR="81.2.69.142, 81.2.69.160, 10.0.0.2",
            REMOTE_ADDR="10.0.0.3",
        )

    assert answers == [200, 200, 429]
    assert locked.status_code == 429
    assert other_client.status_code == 302
    assert AccessAttempt.objects.get().ip_address == "81.2.69.142"


def test_without_trusted_proxies_only_the_socket_address_counts(monkeypatch):
    assert ipware_settings_for(monkeypatch, proxies=0)["AXES_IPWARE_META_PRECEDENCE_ORDER"] == (
        "REMOTE_ADDR",
    )


@override_settings(AXES_FAILURE_LIMIT=3)
def test_the_api_token_is_left_to_its_throttles(client, api, finance):
    for attempt in range(5):
        refused = api().post(
            "/api/v1/auth/token",
            {"email": finance.email, "password": f"guess-{attempt}"},
            format="json",
        )
        assert refused.status_code == 401

    granted = api().post(
        "/api/v1/auth/token", {"email": finance.email, "password": PASSWORD}, format="json"
    )

    assert granted.status_code == 200 and "access" in granted.json()
    assert not AccessAttempt.objects.exists()
    assert sign_in(client, finance.email).status_code == 302


@override_settings(AXES_FAILURE_LIMIT=3)
def test_a_success_clears_the_count(client, finance):
    for attempt in range(2):
        sign_in(client, finance.email, password=f"guess-{attempt}")
    assert sign_in(client, finance.email).status_code == 302
    client.post("/admin/logout/")

    for attempt in range(2):
        sign_in(client, finance.email, password=f"guess-{attempt}")

    assert sign_in(client, finance.email).status_code == 302

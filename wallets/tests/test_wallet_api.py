"""GET /wallet and /wallet/entries: the caller's own store credit only."""

from decimal import Decimal

import pytest
from django.utils import timezone

from wallets import services
from wallets.models import WalletEntry
from wallets.tests.factories import funded_wallet

pytestmark = pytest.mark.django_db


def test_wallets_list_balances_per_currency(api, customer, other_customer):
    funded_wallet(customer, "50.00")
    funded_wallet(customer, "7", currency="JPY")
    funded_wallet(other_customer, "99.00")
    services.wallet_hold_place(
        user=customer, currency="PEN", amount=Decimal("20"), idempotency_key="k"
    )
    response = api(customer).get("/api/v1/wallet")
    assert response.status_code == 200
    assert response.json() == [
        {"currency": "JPY", "balance": "7", "held": "0", "available": "7"},
        {"currency": "PEN", "balance": "50.00", "held": "20.00", "available": "30.00"},
    ]
    assert api(customer).get("/api/v1/wallet/").status_code == 200


def test_a_customer_without_credit_sees_an_empty_list(api, customer):
    assert api(customer).get("/api/v1/wallet").json() == []


def test_entries_are_paginated_newest_first_and_filtered(api, customer, other_customer):
    funded_wallet(customer, "50.00")
    funded_wallet(other_customer, "99.00")
    hold = services.wallet_hold_place(
        user=customer, currency="PEN", amount=Decimal("20"), idempotency_key="k", payment_id=3
    )
    services.wallet_hold_release(hold_id=hold.pk)
    body = api(customer).get("/api/v1/wallet/entries").json()
    assert [e["entry_type"] for e in body["results"]] == ["release", "hold", "credit"]
    first = body["results"][0]
    assert set(first) == {
        "id",
        "currency",
        "entry_type",
        "amount",
        "balance_after",
        "held_after",
        "reason",
        "payment_id",
        "order_id",
        "created_at",
    }
    assert (first["amount"], first["balance_after"], first["held_after"]) == (
        "20.00",
        "50.00",
        "0.00",
    )
    assert first["payment_id"] == 3
    holds = api(customer).get("/api/v1/wallet/entries", {"entry_type": "hold"}).json()
    assert [e["entry_type"] for e in holds["results"]] == ["hold"]
    by_currency = api(customer).get("/api/v1/wallet/entries", {"currency": "usd"}).json()
    assert by_currency["results"] == []
    page = api(customer).get("/api/v1/wallet/entries", {"page_size": 1}).json()
    assert len(page["results"]) == 1 and page["next"]
    later = (
        api(customer)
        .get("/api/v1/wallet/entries", {"created_after": "2999-01-01T00:00:00Z"})
        .json()
    )
    assert later["results"] == []


def test_bad_filters_answer_the_error_envelope(api, customer):
    response = api(customer).get("/api/v1/wallet/entries", {"entry_type": "steal"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"


def test_wallet_endpoints_need_a_token(api):
    for path in ("/api/v1/wallet", "/api/v1/wallet/entries"):
        response = api().get(path)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "NOT_AUTHENTICATED"


def test_entries_made_together_are_listed_latest_made_first(api, customer):
    funded_wallet(customer, "19.90")
    hold = services.wallet_hold_place(
        user=customer, currency="PEN", amount=Decimal("19.90"), idempotency_key="k"
    )
    services.wallet_hold_deduct(hold_id=hold.pk, amount=Decimal("10.00"))  # debit, then release
    WalletEntry.objects.update(created_at=timezone.now())  # one instant, as in one transaction
    entries = api(customer).get("/api/v1/wallet/entries").json()["results"]
    assert [e["entry_type"] for e in entries] == ["release", "debit", "hold", "credit"]
    assert entries[0]["held_after"] == "0.00"  # the top entry shows the wallet as it is now
    # Asked for explicitly, the same: the id still breaks the tie, in the same direction.
    asked = api(customer).get("/api/v1/wallet/entries?ordering=-created_at").json()["results"]
    assert [e["entry_type"] for e in asked] == ["release", "debit", "hold", "credit"]

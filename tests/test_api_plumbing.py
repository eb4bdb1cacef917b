"""The error envelope, request ids, trailing slashes, card data and health."""

import json
import re

import pytest
from django.test import override_settings

from gamarriando.cards import contains_card_number, find_card_data, luhn_valid

pytestmark = pytest.mark.django_db


def assert_envelope(response, status, code):
    assert response.status_code == status
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details", "request_id"}
    assert body["error"]["code"] == code
    assert body["error"]["request_id"] == response["X-Request-ID"]
    return body["error"]


def test_unknown_api_path_is_enveloped_404(api, customer):
    assert_envelope(api(customer).get("/api/v1/nope"), 404, "NOT_FOUND")
    assert_envelope(api(customer).get("/api/v1/orders/99999999999999999999999"), 404, "NOT_FOUND")


def test_method_not_allowed(api, customer):
    assert_envelope(
        api(customer).put("/api/v1/transactions/1", {}, format="json"), 405, "METHOD_NOT_ALLOWED"
    )
    assert_envelope(api(customer).delete("/api/v1/transactions/1/"), 405, "METHOD_NOT_ALLOWED")
    assert_envelope(
        api(customer).patch("/api/v1/transactions/1", {}, format="json"), 405, "METHOD_NOT_ALLOWED"
    )


def test_malformed_json_and_nan_are_validation_errors(api, customer):
    client = api(customer)
    response = client.generic(
        "POST", "/api/v1/orders", "{not json", content_type="application/json"
    )
    assert_envelope(response, 400, "VALIDATION_ERROR")
    response = client.generic(
        "POST",
        "/api/v1/payments",
        '{"order_id": 1, "payment_method": "simulated", "amount": NaN}',
        content_type="application/json",
    )
    assert_envelope(response, 400, "VALIDATION_ERROR")


@pytest.mark.parametrize(
    "number", ["1e9999999999999999999", "1e-9999999999999999999", "1e999999999999999999", "-1e999"]
)
@pytest.mark.parametrize("path", ["/api/v1/auth/token", "/api/v1/orders", "/api/v1/payments"])
def test_a_number_beyond_decimals_range_is_a_validation_error(api, customer, path, number):
    """Decimal refuses such exponents with an ArithmeticError, not a ValueError: still a 400."""
    client = api(None if path.endswith("token") else customer)
    body = {
        "/api/v1/auth/token": f'{{"email": "a@b.pe", "password": {number}}}',
        "/api/v1/orders": f'{{"items": [{{"product_id": 1, "quantity": {number}}}]}}',
        "/api/v1/payments": f'{{"order_id": 1, "payment_method": "simulated", "amount": {number}}}',
    }[path]
    response = client.generic("POST", path, body, content_type="application/json")
    assert_envelope(response, 400, "VALIDATION_ERROR")


def test_request_id_is_echoed_or_generated(api):
    response = api().get("/api/v1/products", HTTP_X_REQUEST_ID="abc-123")
    assert response["X-Request-ID"] == "abc-123"
    assert len(api().get("/health")["X-Request-ID"]) == 32
    # A card number is not taken as an id: it would be echoed and logged with every line.
    for carded_id in ("4111-1111-1111-1111", "order.4111111111111111", "x_4111111111111111_y"):
        carded = api().get("/api/v1/products", HTTP_X_REQUEST_ID=carded_id)
        assert len(carded["X-Request-ID"]) == 32 and "4111" not in carded["X-Request-ID"]
    # Digits that are no card (a date and a counter) stay the client's id.
    dated = api().get("/api/v1/products", HTTP_X_REQUEST_ID="req-20261201-000042")
    assert dated["X-Request-ID"] == "req-20261201-000042"


def test_trailing_slash_works_without_redirect(api, customer, product, address):
    body = {"items": [{"product_id": product.pk, "quantity": 1}], "shipping_address": address}
    assert api(customer).post("/api/v1/orders/", body, format="json").status_code == 201
    assert api(customer).get("/api/v1/orders/").status_code == 200
    assert api(customer).get("/api/v1/auth/me/").status_code == 200


@pytest.mark.parametrize(
    "payload",
    [
        {"notes": "4242424242424242"},
        {"notes": "card 4242 4242 4242 4242 thanks"},
        {"notes": "4242-4242-4242-4242"},
        {"items": [{"product_id": 4242424242424242, "quantity": 1}]},
        {"shipping_address": {"street": "5555555555554444"}},
        {"cvv": "123"},
        {"card": {"CVC": "123"}},
    ],
)
def test_card_data_is_refused_and_never_logged(api, customer, payload, caplog):
    response = api(customer).post("/api/v1/orders", payload, format="json")
    error = assert_envelope(response, 400, "CARD_DATA_NOT_ALLOWED")
    # The request id is random hex and may itself contain "4242"; nothing else may.
    assert "4242" not in json.dumps({**error, "request_id": ""})
    assert "4242424242424242" not in caplog.text and "4242 4242" not in caplog.text


def test_non_luhn_long_numbers_pass():
    assert not contains_card_number("order 1234567890123")
    assert not luhn_valid("4242424242424241")
    assert find_card_data({"notes": "call 987654321"}) is None
    assert find_card_data({"a": [{"b": "4000056655665556"}]}) == "a[0].b"


@override_settings(DEBUG=False)
def test_server_error_never_shows_a_traceback(api, customer, monkeypatch):
    from orders import selectors

    def explode(user):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(selectors, "order_visible_to", explode)
    client = api(customer)
    client.raise_request_exception = False
    response = client.get("/api/v1/orders")
    error = assert_envelope(response, 500, "INTERNAL_ERROR")
    assert "secret internals" not in response.content.decode()
    assert "Traceback" not in response.content.decode()
    assert error["message"] == "An unexpected error occurred."


def test_health_reports_each_check(api):
    response = api().get("/health")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "cache": "ok", "broker": "inline"},
    }


def test_health_names_the_failing_part(api, monkeypatch):
    from gamarriando import health

    def broken():
        raise ConnectionError("cache down")

    monkeypatch.setitem(health.CHECKS, "cache", broken)
    response = api().get("/health")
    assert response.status_code == 503
    assert response.json()["checks"]["cache"] == "error"
    assert response.json()["checks"]["database"] == "ok"


def test_schema_and_docs_are_served(api):
    schema = api().get("/api/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for path in (
        "/api/v1/orders",
        "/api/v1/payments/{id}/refund",
        "/api/v1/transactions",
        "/api/v1/auth/token",
    ):
        assert any(p.rstrip("/") == path for p in paths), path
    orders_post = next(v for k, v in paths.items() if k.rstrip("/") == "/api/v1/orders")["post"]
    assert {"400", "401", "409", "422", "429"} <= set(orders_post["responses"])
    assert api().get("/api/docs/").status_code == 200

    def post_of(path):
        return next(v for k, v in paths.items() if k.rstrip("/") == path)["post"]

    def key_header(path):
        found = [p for p in post_of(path).get("parameters", []) if p["name"] == "Idempotency-Key"]
        return found[0]["description"] if found else None

    # Signing in takes no key; the Stripe pass-through says what its key does.
    assert key_header("/api/v1/auth/token") is None
    assert key_header("/api/v1/auth/token/refresh") is None
    assert key_header("/api/v1/orders") == "Replays the stored answer for 24 hours."
    assert "Passed on to Stripe" in key_header("/api/v1/payment-methods/setup-intent")
    # The token answers are the token pair, not the request's fields.
    for path in ("/api/v1/auth/token", "/api/v1/auth/token/refresh"):
        ok = post_of(path)["responses"]["200"]["content"]["application/json"]["schema"]
        assert ok == {"$ref": "#/components/schemas/TokenPairOutput"}, (path, ok)
    pair = schema.json()["components"]["schemas"]["TokenPairOutput"]
    assert set(pair["required"]) == {"access", "refresh"}
    # List parameters as the server keeps them.
    listed = {
        p["name"]: p["schema"]
        for p in next(v for k, v in paths.items() if k.rstrip("/") == "/api/v1/payments")["get"][
            "parameters"
        ]
    }
    assert (listed["page_size"]["minimum"], listed["page_size"]["maximum"]) == (1, 100)
    assert listed["ordering"]["enum"] == ["created_at", "-created_at"]
    assert listed["order_id"]["type"] == "integer"
    money_input = schema.json()["components"]["schemas"]["PaymentCreateInputRequest"]["properties"]
    pattern = money_input["amount"]["oneOf"][0]["pattern"]
    assert re.fullmatch(pattern, "59.990") and not re.fullmatch(pattern, "+60")


@pytest.mark.parametrize(
    "value",
    ["0168-11-28T01:30:16.6-21:47", "9999-12-31T23:59:59-15:00", "0001-01-01T00:00:00+14:00"],
)
def test_odd_timestamps_in_filters_never_crash(api, customer, value):
    from urllib.parse import quote

    for path in ("/api/v1/orders", "/api/v1/payments", "/api/v1/transactions"):
        for name in ("created_after", "created_before"):
            response = api(customer).get(f"{path}?{name}={quote(value)}")
            assert response.status_code == 200, (path, name, response.content)


@pytest.mark.parametrize(
    "query",
    [
        "/api/v1/payments?order_id=1.9",
        "/api/v1/transactions?payment_id=1.5",
        "/api/v1/transactions?order_id=2e0",
        "/api/v1/payments?order_id=0",
    ],
)
def test_an_id_filter_that_is_not_a_whole_number_is_a_validation_error(api, finance, query):
    response = api(finance).get(query)
    assert response.status_code == 400, response.content[:300]
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"
    name = query.split("?")[1].split("=")[0]
    assert name in response.json()["error"]["details"]


def test_a_format_other_than_json_is_406_by_header_or_by_query(api, customer, product, address):
    client = api(customer)
    body = {"items": [{"product_id": product.pk, "quantity": 1}], "shipping_address": address}
    order = client.post("/api/v1/orders", body, format="json").json()
    url = f"/api/v1/orders/{order['id']}"
    assert_envelope(client.get(url, HTTP_ACCEPT="application/xml"), 406, "NOT_ACCEPTABLE")
    # ?format=xml named an existing order "not found"; it is the same refusal as the header's.
    for query in ("?format=xml", "?format=csv"):
        assert_envelope(client.get(url + query), 406, "NOT_ACCEPTABLE")
        assert_envelope(client.get("/api/v1/orders" + query), 406, "NOT_ACCEPTABLE")
    assert client.get(url + "?format=json").json()["id"] == order["id"]
    assert api().get("/api/schema/?format=json").status_code == 200

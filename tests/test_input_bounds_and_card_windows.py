"""Bodies bounded before parsing (size, nesting) and card numbers found beside other digits."""

import contextlib
import io
import json
import re
import sys
import unicodedata

import pytest
from django.conf import settings
from django.test import RequestFactory, override_settings
from django.urls import get_resolver

from gamarriando.cards import (
    SEPARATOR,
    contains_card_number,
    find_card_data,
    redact_card_numbers,
)
from gamarriando.error_views import bad_request, server_error
from gamarriando.parsers import BodyRefused, DecimalJSONParser, check_nesting
from orders.models import Order
from tests.helpers import make_order, make_payment

pytestmark = pytest.mark.django_db

DEEP_ARRAYS = "[" * 50_000 + "]" * 50_000
DEEP_OBJECTS = '{"a":' * 20_000 + "1" + "}" * 20_000  # 120 kB: within the size limit


def without_card_guard():
    """Settings that leave the DRF parser as the only one to read the body."""
    return override_settings(
        MIDDLEWARE=[m for m in settings.MIDDLEWARE if not m.endswith("CardDataGuardMiddleware")]
    )


def post_raw(client, path, body, content_type="application/json"):
    client.raise_request_exception = False
    return client.generic("POST", path, body, content_type=content_type)


def assert_validation_error(response):
    assert response.status_code == 400, response.content[:300]
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["request_id"] == response["X-Request-ID"]
    return error


@pytest.mark.parametrize("body", [DEEP_ARRAYS, DEEP_OBJECTS], ids=["arrays", "objects"])
@pytest.mark.parametrize("path", ["/api/v1/orders", "/api/v1/payments"])
def test_deep_nesting_is_a_validation_error_on_the_card_guard_path(api, customer, body, path):
    error = assert_validation_error(post_raw(api(customer), path, body))
    assert "deeper than 32" in error["details"]["body"][0]


@pytest.mark.parametrize("body", [DEEP_ARRAYS, DEEP_OBJECTS], ids=["arrays", "objects"])
def test_deep_nesting_is_a_validation_error_in_the_parser_alone(api, customer, body):
    with without_card_guard():
        assert_validation_error(post_raw(api(customer), "/api/v1/orders", body))


def test_nesting_is_counted_outside_strings_only():
    check_nesting('{"notes": "' + "[" * 100 + '"}')  # brackets inside a string are text
    check_nesting('{"notes": "\\"' + "[" * 100 + '"}')  # an escaped quote does not end it
    check_nesting("[" * 32 + "]" * 32)
    with pytest.raises(BodyRefused):
        check_nesting("[" * 33 + "]" * 33)
    with pytest.raises(BodyRefused):
        check_nesting('["\\\\"' + ",[" * 40)  # an escaped backslash does end the string


@override_settings(API_MAX_BODY_BYTES=1_000)
def test_an_oversized_body_is_refused_before_parsing(api, customer, product, address):
    body = {"items": [{"product_id": product.pk, "quantity": 1}], "shipping_address": address}
    client = api(customer)
    assert client.post("/api/v1/orders", body, format="json").status_code == 201
    body["notes"] = "x" * 2_000
    error = assert_validation_error(client.post("/api/v1/orders", body, format="json"))
    assert "larger than 1000 bytes" in error["details"]["body"][0]
    with without_card_guard():
        assert_validation_error(client.post("/api/v1/orders", body, format="json"))


def test_the_parser_reads_no_more_than_the_limit_plus_one_byte():
    stream = io.BytesIO(b"[" + b" " * 10_000_000 + b"]")
    with override_settings(API_MAX_BODY_BYTES=100), pytest.raises(BodyRefused):
        DecimalJSONParser().parse(stream, parser_context={"encoding": "utf-8"})
    assert stream.tell() == 101


@pytest.mark.parametrize("charset", ["nope", "utf-7", "cp500", "utf-16", "latin-1"])
def test_a_body_in_a_charset_other_than_utf8_is_refused_as_unsupported(api, customer, charset):
    response = post_raw(
        api(customer), "/api/v1/orders", "{}", f"application/json; charset={charset}"
    )
    assert response.status_code == 415, response.content[:300]
    assert response.json()["error"]["code"] == "UNSUPPORTED_MEDIA_TYPE"
    assert response.json()["error"]["details"] == {"charset": [f"{charset} is not UTF-8."]}


@pytest.mark.parametrize("guarded", [True, False], ids=["card-guard", "parser-alone"])
def test_a_card_number_hidden_by_a_declared_charset_is_never_stored(
    api, customer, product, address, guarded
):
    body = {"items": [{"product_id": product.pk, "quantity": 1}], "shipping_address": address}
    client = api(customer)
    cp500 = json.dumps({**body, "notes": "card 4111 1111 1111 1111"}).encode("cp500")
    utf7 = json.dumps({**body, "notes": "+ADQ-111 1111 1111 1111"})
    with contextlib.nullcontext() if guarded else without_card_guard():
        for raw, charset in [(cp500, "cp500"), (utf7, "utf-7"), (utf7, "UTF7")]:
            response = post_raw(
                client, "/api/v1/orders", raw, f"application/json; charset={charset}"
            )
            assert response.status_code == 415, response.content[:300]
    assert not Order.objects.exists()
    if not guarded:
        return
    for charset in ("utf-8", "UTF-8", "utf8"):  # UTF-8 by any name is still read and guarded
        carded = json.dumps({**body, "notes": "4111 1111 1111 1111"})
        response = post_raw(
            client, "/api/v1/orders", carded, f"application/json; charset={charset}"
        )
        assert response.json()["error"]["code"] == "CARD_DATA_NOT_ALLOWED"


@pytest.mark.parametrize("charset", ["us-ascii", "ASCII", "utf-8", '"UTF-8"'])
def test_utf8_and_ascii_bodies_are_read(api, customer, product, address, charset):
    body = {"items": [{"product_id": product.pk, "quantity": 1}], "shipping_address": address}
    response = post_raw(
        api(customer), "/api/v1/orders", json.dumps(body), f"application/json; charset={charset}"
    )
    assert response.status_code == 201, response.content[:300]


def test_an_empty_body_may_declare_any_charset(api, customer, product):
    """A body-less POST (PayPal's resume of process) is never refused for its header alone."""
    payment = make_payment(customer, make_order(customer, product))
    response = post_raw(
        api(customer),
        f"/api/v1/payments/{payment.pk}/process",
        "",
        "application/json; charset=ISO-8859-1",
    )
    assert response.status_code != 415, response.content[:300]
    assert "charset" not in response.json()["error"]["details"], response.json()


@pytest.mark.parametrize("length", ["abc", "\u00b2", "-1", "1e3"])
def test_a_malformed_content_length_is_a_validation_error_not_a_crash(api, customer, length):
    client = api(customer)
    client.raise_request_exception = False
    response = client.generic(
        "POST", "/api/v1/orders", b"{}", content_type="application/json", CONTENT_LENGTH=length
    )
    assert "not a number" in assert_validation_error(response)["details"]["body"][0]


@override_settings(DEBUG=False)
def test_errors_raised_outside_any_view_answer_the_api_with_the_envelope(api, customer, client):
    # A Host the settings do not allow is refused by Django before any view.
    refused = client.get("/api/v1/products", HTTP_HOST="evil.example")
    assert refused.status_code == 400 and refused["Content-Type"] == "application/json"
    assert refused.json()["error"]["code"] == "VALIDATION_ERROR"
    assert refused.json()["error"]["request_id"] == refused["X-Request-ID"]
    # A crash in a middleware: Django's handler500 is ours, and answers the envelope.
    assert get_resolver().resolve_error_handler(500) is server_error
    assert get_resolver().resolve_error_handler(400) is bad_request
    request = RequestFactory().get("/api/v1/orders")
    crashed = server_error(request)
    assert crashed.status_code == 500
    assert json.loads(crashed.content)["error"]["code"] == "INTERNAL_ERROR"
    admin = client.get("/admin/", HTTP_HOST="evil.example")
    assert admin.status_code == 400 and "json" not in admin["Content-Type"]  # the admin's own


# Each a card number of a real network's test range, in the shapes people paste them.
CARDS = [
    "4111 1111 1111 1111 12/26",
    "Tel 51 4111 1111 1111 1111",
    "4111.1111.1111.1111",
    "4111  1111  1111  1111",
    "4111 - 1111 - 1111 - 1111",
    "ref 00 12 4242424242424242 cvv 123",
    "5555555555554444",
    "pay with 2223003122003222 please",
    "amex 3782 822463 10005",
    "diners 3056 9300 0902 0004",
    "diners 36227206271667",
    "jcb 3566002020360505",
    "unionpay 6200000000000005",
    "discover 6011-1111-1111-1117",
    "visa13 4222222222222",
    "order 1234 then 4000056655665556",
    "4000056655665556 exp 1226",
    "514111111111111111",
    "\uff14\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11",
    "x" + "4" * 70,  # too long a run to scan: counted as card-like
]
# What the storefront and our own logs carry all day, with digits that must not be flagged.
NOT_CARDS = [
    "GAM-20260501-1234567890",
    "GAM-20261231-98765ABCDE",
    "GAM-20260501-4111111111",
    "+51 987 654 321",
    "987654321 / 912345678",
    "(01) 555-1234 ext. 4242",
    "S/ 1,234.56",
    "150.00 200.00 300.00",
    "12.50 - 3.40",
    "123e4567-e89b-12d3-a456-426614174000",
    "9b2f1c1e-4111-4111-8111-111111111111",
    "2026-05-01T12:30:45.123456+00:00",
    "20260501123045",
    "1767225600000",
    "1767225600",
    "idem-2026-05-01-000042",
    "order 1234567890123",
    "card ending 4242",
    "1234 5678 9012 3456",
    "RUC 20123456789",
    "DNI 45678912",
    "tracking 9400111899223197428490",
    "6011 1111 1111 1118",
    "4111 1111 1111 111",
    "5f0c3e9a8b7d6c5e4f3a2b1c0d9e8f7a",
]


@pytest.mark.parametrize("text", CARDS)
def test_card_numbers_are_found_beside_other_digits_and_separators(text):
    assert contains_card_number(text)
    assert find_card_data({"notes": text}) == "notes"
    assert "[REDACTED]" in redact_card_numbers(text)


@pytest.mark.parametrize("text", NOT_CARDS)
def test_identifiers_phones_amounts_and_timestamps_are_not_cards(text):
    assert not contains_card_number(text)
    assert redact_card_numbers(text) == text


def test_redaction_keeps_the_text_around_the_number():
    # "/" joins a run since QA finding 4, so an expiry typed right after the number goes too.
    assert redact_card_numbers("paid GAM-20260501-ABCDE12345 with 4111 1111 1111 1111 12/26") == (
        "paid GAM-20260501-ABCDE12345 with [REDACTED]"
    )
    assert redact_card_numbers("paid with 4111 1111 1111 1111 exp 12/26") == (
        "paid with [REDACTED] exp 12/26"
    )


def test_a_card_number_in_a_key_or_a_fractional_number_is_found_and_not_echoed():
    from decimal import Decimal

    assert find_card_data({"meta": {"4111111111111111": 1}}) == "meta"
    assert find_card_data({"amount": Decimal("4111111111111111.0")}) == "amount"
    assert find_card_data({"amount": Decimal("1E+999999")}) is None


def without_request_id(response) -> str:
    """The answer's text without its random request id, which may itself contain "4111"."""
    body = response.json()
    body["error"]["request_id"] = ""
    return json.dumps(body)


@pytest.mark.parametrize(
    "notes", ["4111 1111 1111 1111 12/26", "Tel 51 4111 1111 1111 1111", "4111.1111.1111.1111"]
)
def test_the_api_refuses_the_issue_examples_in_a_body(api, customer, notes):
    response = api(customer).post("/api/v1/orders", {"notes": notes}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "CARD_DATA_NOT_ALLOWED"
    assert "4111" not in without_request_id(response)


def test_the_api_refuses_card_data_in_a_query_string(api, customer):
    client = api(customer)
    for query in ("?search=4111%201111%201111%201111", "?cvv=123", "?4111111111111111=1"):
        response = client.get(f"/api/v1/orders{query}")
        assert response.status_code == 400, query
        assert response.json()["error"]["code"] == "CARD_DATA_NOT_ALLOWED"
        assert "4111" not in without_request_id(response)
    assert (
        client.get("/api/v1/orders?page_size=5&search=GAM-20260501-1234567890").status_code == 200
    )


FORM_WITH_A_CARD = "number=4242424242424242&cvc=123"


@pytest.mark.parametrize(
    "content_type", ["application/x-www-form-urlencoded", "text/plain", "multipart/form-data", ""]
)
def test_a_body_that_is_not_json_is_refused_where_the_handler_never_reads_it(
    api, customer, product, content_type
):
    """A DELETE or a field-less POST would otherwise take a form (a card, say) unread."""
    order = make_order(customer, product)
    client = api(customer)
    client.raise_request_exception = False
    for method, path in [
        ("DELETE", f"/api/v1/orders/{order.pk}"),
        ("POST", "/api/v1/payment-methods/setup-intent"),
    ]:
        response = client.generic(method, path, FORM_WITH_A_CARD, content_type=content_type)
        assert response.status_code == 415, (method, response.content[:300])
        assert response.json()["error"]["code"] == "UNSUPPORTED_MEDIA_TYPE"
    order.refresh_from_db()
    assert order.status == "pending"


def test_malformed_json_is_refused_where_the_handler_never_reads_it(api, customer, product):
    order = make_order(customer, product)
    client = api(customer)
    client.raise_request_exception = False
    broken = '{"number": "4242424242424242",'
    response = client.generic("DELETE", f"/api/v1/orders/{order.pk}", broken, "application/json")
    assert "JSON parse error" in assert_validation_error(response)["message"]
    order.refresh_from_db()
    assert order.status == "pending"
    # A body-less request needs no type, and a JSON one any JSON type the parser reads.
    assert client.delete(f"/api/v1/orders/{order.pk}").status_code == 200


# QA finding 4: what else joins the groups of a typed or pasted card number.
SEPARATORS = {
    "tab": "\t",
    "newline": "\n",
    "crlf": "\r\n",
    "no-break space": "\u00a0",
    "narrow no-break space": "\u202f",
    "ideographic space": "\u3000",
    "hyphen": "\u2010",
    "non-breaking hyphen": "\u2011",
    "en dash": "\u2013",
    "em dash": "\u2014",
    "minus sign": "\u2212",
    "full-width hyphen-minus": "\uff0d",
    "small hyphen-minus": "\ufe63",
    "slash": "/",
    "underscore": "_",
    "comma": ",",
    "zero-width space": "\u200b",
    "zero-width non-joiner": "\u200c",
    "zero-width joiner": "\u200d",
    "word joiner": "\u2060",
    "byte order mark": "\ufeff",
    "soft hyphen": "\u00ad",
    "right-to-left mark": "\u200f",
    "space, zero-width space, space": " \u200b ",
    "comma and space": ", ",
}


def split_card(separator: str, number: str = "4111111111111111") -> str:
    return separator.join(number[i : i + 4] for i in range(0, len(number), 4))


@pytest.mark.parametrize("separator", SEPARATORS.values(), ids=list(SEPARATORS))
def test_a_card_split_by_any_separator_is_found_and_redacted(separator):
    text = f"my card {split_card(separator)} thanks"
    assert contains_card_number(text)
    assert find_card_data({"notes": text}) == "notes"
    assert redact_card_numbers(text) == "my card [REDACTED] thanks"


@pytest.mark.parametrize("separator", SEPARATORS.values(), ids=list(SEPARATORS))
def test_the_api_refuses_and_stores_no_card_split_by_any_separator(
    api, customer, product, address, separator
):
    body = {
        "items": [{"product_id": product.pk, "quantity": 1}],
        "shipping_address": address,
        "notes": split_card(separator),
    }
    response = api(customer).post("/api/v1/orders", body, format="json")
    assert response.status_code == 400, response.json()
    assert response.json()["error"]["code"] == "CARD_DATA_NOT_ALLOWED"
    assert response.json()["error"]["details"] == {"field": "notes"}
    assert not Order.objects.exists()


def test_every_unicode_dash_and_whitespace_joins_a_card_number():
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        if unicodedata.category(char) == "Pd" or char.isspace():
            assert contains_card_number(split_card(char)), f"U+{code:04X}"


def test_other_punctuation_still_ends_a_run():
    for separator in (":", ";", "|", "+", "(", "x", "\u00b7"):
        assert not contains_card_number(split_card(separator)), separator
    # Four separators in a row end a run, as before.
    assert not contains_card_number(split_card(" \t\u200b,"))


@pytest.mark.parametrize(
    "text",
    [
        # Groups of twelve digits: never a card, so every run is scanned to its end.
        ("1\t\u200b," * 12 + "|") * 20_000,
        # One endless run of digits and separators: counted as card-like without scanning.
        "4" + "\u2013\u200b\u00a04" * 80_000,
        ",\u200b" * 120_000,
    ],
    ids=["short runs", "one long run", "separators only"],
)
def test_the_scan_stays_linear_with_the_wider_separators(text):
    """Linear by construction, not by a stopwatch: no character is both a digit and a
    separator, so the run's regex never has two ways to read one character."""
    separator = re.compile(SEPARATOR)
    digit = re.compile(r"\d")
    both = [
        hex(code)
        for code in range(sys.maxunicode + 1)
        if separator.fullmatch(chr(code)) and digit.fullmatch(chr(code))
    ]
    assert both == []
    # And these worst cases are read to their end with the right answers.
    assert contains_card_number(text) == text.startswith("4")
    assert ("[REDACTED]" in redact_card_numbers(text)) == text.startswith("4")

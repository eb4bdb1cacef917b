"""orjson's answers are DRF's and the json module's, byte for byte."""

import datetime
import json
import uuid
from decimal import Decimal

import pytest
from django.db import models
from django.utils.translation import gettext_lazy
from rest_framework.renderers import JSONRenderer
from rest_framework.utils.serializer_helpers import ReturnDict, ReturnList

from gamarriando.json_codec import CompactJSONRenderer, loads


class Colour(models.TextChoices):
    RED = "red", "Red"


class Size(models.IntegerChoices):
    SMALL = 1, "Small"


LIMA = datetime.timezone(datetime.timedelta(hours=-5))
PAYLOADS = [
    {"id": 1, "name": "Polo Gamarra", "price": "39.90", "active": True, "notes": None},
    {"results": [], "next": None, "nested": {"a": [1, [2, {"b": []}]]}},
    {"text": 'ñandú — «quote» "q" back\\slash / tab\t nl\n cr\r \x00\x1f\x7f 😀'},
    {"separators": "line\u2028para\u2029end", "key\u2028": "v"},
    {"utc": datetime.datetime(2026, 11, 30, 12, 0, 0, 123456, tzinfo=datetime.UTC)},
    {"lima": datetime.datetime(2026, 11, 30, 7, 0, tzinfo=LIMA)},
    {"naive": datetime.datetime(2026, 11, 30, 7, 0), "date": datetime.date(2026, 1, 2)},
    {"time": datetime.time(7, 30, 15), "uuid": uuid.UUID("12345678-1234-5678-1234-567812345678")},
    {"lazy": gettext_lazy("This field is required.")},
    {"choices": [Colour.RED, Size.SMALL]},
    ReturnDict({"a": ReturnList([1, 2], serializer=None)}, serializer=None),
    {"tuple": (1, "two", None)},
    {"big": 2**64, "negative_big": -(2**63) - 1, "max": 2**63 - 1},
    {"decimal": Decimal("10.50")},
    {1: "int key", "b": 2},
    [1, "list at the top", {"x": False}],
    {"bytes": b"abc"},
    {"delta": datetime.timedelta(seconds=90)},
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_the_renderer_writes_what_drf_writes(payload):
    assert CompactJSONRenderer().render(payload) == JSONRenderer().render(payload)


def test_an_indented_answer_is_drf_s_own():
    accepted = "application/json; indent=2"
    data = {"a": [1, 2]}
    assert CompactJSONRenderer().render(data, accepted) == JSONRenderer().render(data, accepted)
    assert b"\n" in CompactJSONRenderer().render(data, accepted)


def test_nothing_renders_as_nothing():
    assert CompactJSONRenderer().render(None) == b""


@pytest.mark.parametrize(
    "text", ['{"a": [1, 2.5, "x"], "b": null, "c": true, "d": "ñ\\u2028"}', "[]"]
)
def test_loads_reads_what_json_reads(text):
    assert loads(text) == json.loads(text)


def test_loads_reads_an_integer_beyond_64_bits_as_a_float_which_callers_check():
    assert isinstance(loads('{"big": 123456789012345678901234567890}')["big"], float)


def test_loads_leaves_to_json_a_number_orjson_cannot_read():
    text = '{"huge": 1' + "0" * 400 + "}"  # how jsonb stores 1e400
    assert loads(text) == json.loads(text) == {"huge": 10**400}


@pytest.mark.django_db
def test_the_order_and_ledger_pages_answer_what_drf_s_renderer_writes(api, customer, product):
    from tests.helpers import make_order, make_payment

    order = make_order(customer, product, quantity=2)
    type(order).objects.filter(pk=order.pk).update(notes='entrega\u2028piso 2 — ñ "ya" \t')
    payment = make_payment(customer, order, amount="1.10")
    # an integer beyond 64 bits in stored metadata takes json's exact path
    type(payment).objects.filter(pk=payment.pk).update(
        metadata={"ref": "12345678901234567890", "n": 123456789012345678901234567890}
    )
    client = api(customer)
    for path in (
        "/api/v1/orders",
        f"/api/v1/orders/{order.pk}",
        "/api/v1/orders?status=pending",
        "/api/v1/orders/999999999",
        "/api/v1/transactions",
        "/api/v1/products",
    ):
        response = client.get(path)
        assert response.status_code in (200, 404), (path, response.content)
        assert response.content == JSONRenderer().render(response.data), path
    detail = client.get(f"/api/v1/orders/{order.pk}").json()
    assert detail["notes"] == 'entrega\u2028piso 2 — ñ "ya" \t'
    assert detail["payments"][0]["metadata"] == {
        "ref": "12345678901234567890",
        "n": "123456789012345678901234567890",
    }

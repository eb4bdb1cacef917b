"""Structured logs redact card numbers and secrets."""

import json

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


def test_logs_redact_card_numbers_and_secrets(api, customer):
    import io
    import logging

    import structlog

    from gamarriando.logging import json_formatter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(json_formatter())
    logging.getLogger().addHandler(handler)
    try:
        api(customer).post("/api/v1/orders", {"notes": "4242 4242 4242 4242"}, format="json")
        structlog.get_logger("test").info(
            "audit", authorization="Bearer abc.def", note="card 4000056655665556", request_id="r1"
        )
    finally:
        logging.getLogger().removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    text = stream.getvalue()
    assert (
        "4242 4242 4242 4242" not in text
        and "4000056655665556" not in text
        and "abc.def" not in text
    )
    audit = next(line for line in lines if line["event"] == "audit")
    assert audit["authorization"] == audit["note"] == "[REDACTED]"
    assert audit["request_id"] == "r1"
    assert any(line["event"] == "card_data_refused" for line in lines)

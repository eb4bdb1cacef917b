"""Metrics, alert checks, task log lines and the broker health check."""

import io
import json
import logging
from decimal import Decimal

import pytest

from orders.tests.factories import ProductFactory
from tests.helpers import make_paid

pytestmark = pytest.mark.django_db(transaction=True)


def test_metrics_are_served_to_loopback_or_with_the_token(client, customer, settings):
    make_paid(customer, ProductFactory(price=Decimal("10.00"), stock=5))
    body = client.get("/metrics").content.decode()
    assert 'gamarriando_payments{gateway="simulated",status="completed"} 1.0' in body
    assert (
        'gamarriando_gateway_call_seconds_count{gateway="simulated",operation="charge",outcome="succeeded"}'
        in body
    )
    assert "gamarriando_outbox_lag_seconds 0.0" in body
    assert "django_http_requests_total_by_method_total" in body
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 403
    settings.METRICS_TOKEN = "scrape-me"
    assert (
        client.get(
            "/metrics", REMOTE_ADDR="10.1.2.3", HTTP_AUTHORIZATION="Bearer scrape-me"
        ).status_code
        == 200
    )
    assert (
        client.get(
            "/metrics", REMOTE_ADDR="10.1.2.3", HTTP_AUTHORIZATION="Bearer wrong"
        ).status_code
        == 403
    )


def test_alert_checks_fire_and_mail_the_admins(customer, settings, mailoutbox):
    from gamarriando.tasks import check_alerts

    settings.ADMINS = [("Ops", "ops@gamarriando.pe")]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    make_paid(customer, ProductFactory(price=Decimal("10.00"), stock=5))
    assert check_alerts() == []
    make_paid(customer, ProductFactory(price=Decimal("10.00"), stock=5), token="tok_gateway_error")
    alerts = check_alerts()
    assert any("failure rate 1/2" in line for line in alerts)
    assert any("gateway_error" in line for line in alerts)
    assert mailoutbox[-1].subject.endswith("Gamarriando Payments alerts")


def test_every_task_writes_one_log_line_with_its_ids(customer):
    from gamarriando.logging import json_formatter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(json_formatter())
    logging.getLogger().addHandler(handler)
    try:
        _, payment = make_paid(customer, ProductFactory(price=Decimal("10.00"), stock=5))
    finally:
        logging.getLogger().removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    task_lines = [
        line
        for line in lines
        if line["event"] == "task" and line.get("task") == "payments.execute_transaction"
    ]
    assert len(task_lines) == 1
    assert task_lines[0]["state"] == "SUCCESS"
    assert task_lines[0]["duration_ms"] >= 0
    assert task_lines[0]["transaction_id"]


def test_health_names_a_broken_broker(client, settings, use_broker):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    use_broker("redis://127.0.0.1:1/0")
    response = client.get("/health")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "cache": "ok", "broker": "error"}


def test_the_request_line_names_user_and_payment(api, customer):
    from gamarriando.logging import json_formatter

    _, payment = make_paid(customer, ProductFactory(price=Decimal("10.00"), stock=5))
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(json_formatter())
    logging.getLogger().addHandler(handler)
    try:
        api(customer).get(f"/api/v1/payments/{payment.pk}", HTTP_X_REQUEST_ID="req-42")
    finally:
        logging.getLogger().removeHandler(handler)
    line = next(
        json.loads(raw) for raw in stream.getvalue().splitlines() if '"event": "request"' in raw
    )
    assert (line["request_id"], line["user_id"], line["payment_id"], line["status"]) == (
        "req-42",
        customer.pk,
        str(payment.pk),
        200,
    )
    assert line["duration_ms"] >= 0


def test_a_request_that_runs_tasks_inline_keeps_its_request_id_on_its_own_lines(
    api, customer, product
):
    from gamarriando.logging import json_formatter
    from tests.helpers import make_order, make_payment

    payment = make_payment(customer, make_order(customer, product))
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(json_formatter())
    logging.getLogger().addHandler(handler)
    try:  # the charge and its events' tasks run inline, inside this request
        api(customer).post(
            f"/api/v1/payments/{payment.pk}/process",
            {"payment_method_id": "tok_success"},
            format="json",
            HTTP_X_REQUEST_ID="req-77",
        )
    finally:
        logging.getLogger().removeHandler(handler)
    lines = [json.loads(raw) for raw in stream.getvalue().splitlines()]
    assert any(line["event"] == "task" for line in lines)  # tasks did run inline
    request_line = next(line for line in lines if line["event"] == "request")
    assert request_line.get("request_id") == "req-77"
    assert "task" not in request_line

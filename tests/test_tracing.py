"""Tracing: off by default; when on, one trace spans the API request, the task and the gateway."""

import io
import json
import logging
from decimal import Decimal

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from gamarriando import tracing
from gamarriando.logging import json_formatter
from orders.tests.factories import ProductFactory
from tests.helpers import make_order, make_payment

pytestmark = pytest.mark.django_db(transaction=True)


def test_tracing_is_off_without_an_endpoint(monkeypatch):
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    assert tracing.configure_tracing() is False


@pytest.fixture
def spans():
    from opentelemetry.instrumentation.celery import CeleryInstrumentor
    from opentelemetry.instrumentation.django import DjangoInstrumentor
    from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor
    from opentelemetry.instrumentation.requests import RequestsInstrumentor

    exporter = InMemorySpanExporter()
    assert tracing.configure_tracing(exporter=exporter, simple=True) is True
    yield exporter
    for instrumentor in (
        DjangoInstrumentor(),
        CeleryInstrumentor(),
        PsycopgInstrumentor(),
        RequestsInstrumentor(),
    ):
        instrumentor.uninstrument()
    tracing._configured = False


def test_one_trace_spans_request_task_and_gateway_call(spans, customer):
    order = make_order(customer, ProductFactory(price=Decimal("30.00"), stock=5))
    payment = make_payment(customer, order)
    client = APIClient()  # built after instrumenting, so its handler has the tracing middleware
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(customer).access_token}")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(json_formatter())
    logging.getLogger().addHandler(handler)
    spans.clear()
    try:
        response = client.post(
            f"/api/v1/payments/{payment.pk}/process",
            {"payment_method_id": "tok_success"},
            format="json",
        )
    finally:
        logging.getLogger().removeHandler(handler)
    assert response.status_code == 202
    finished = spans.get_finished_spans()
    by_id = {span.context.span_id: span for span in finished}
    request = next(s for s in finished if s.kind.name == "SERVER" and "process" in s.name)
    task = next(s for s in finished if s.name == "run/payments.execute_transaction")
    gateway = next(s for s in finished if s.name == "gateway simulated charge")
    assert gateway.attributes["gateway.idempotency_key"] == f"payment-{payment.pk}-attempt-1"

    def ancestors(span):
        while span.parent is not None and span.parent.span_id in by_id:
            span = by_id[span.parent.span_id]
            yield span

    assert task in list(ancestors(gateway))
    assert request in list(ancestors(task))
    assert len({request.context.trace_id, task.context.trace_id, gateway.context.trace_id}) == 1
    trace_id = format(request.context.trace_id, "032x")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    task_line = next(
        line
        for line in lines
        if line["event"] == "task" and line.get("task") == "payments.execute_transaction"
    )
    assert task_line["trace_id"] == trace_id

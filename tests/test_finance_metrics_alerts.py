"""The metrics and alerts of issue 13, fed with known data."""

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from django.utils import timezone
from prometheus_client import REGISTRY

from gamarriando.alerts import alert_checks
from orders.tests.factories import ProductFactory
from payments.models import Payment
from payments.monitoring import PaymentCollector
from payments.unusual_activity import unusual_activity_alerts
from tests.helpers import make_order, make_paid, make_payment
from transactions.models import Transaction

pytestmark = pytest.mark.django_db(transaction=True)
ALERTS = Path(__file__).resolve().parents[1] / "ops" / "prometheus" / "alerts.yml"


def sample(name, **labels):
    return REGISTRY.get_sample_value(name, labels) or 0.0


def _refunds_at(payment, when, count, status="succeeded"):
    for n in range(count):
        Transaction.objects.create(
            payment=payment,
            transaction_type="refund",
            amount=Decimal("1.00"),
            currency="PEN",
            status=status,
            created_at=when - timedelta(minutes=5 + n % 50),
        )


@pytest.mark.parametrize(
    ("per_day_last_week", "last_hour", "fires"),
    [
        (1, 10, True),  # 10 against 1 a day: far above, and above the floor
        (0, 9, False),  # below the floor of 10: a quiet shop stays quiet
        (4, 12, False),  # 12 is not above 3 x 4
        (4, 13, True),
    ],
)
def test_unusual_refund_volume_compares_with_the_same_hour_last_week(
    customer, per_day_last_week, last_hour, fires
):
    _, payment = make_paid(customer, ProductFactory(price=Decimal("100.00"), stock=5))
    now = timezone.now()
    for day in range(1, 8):
        _refunds_at(payment, now - timedelta(days=day), per_day_last_week)
    _refunds_at(payment, now - timedelta(days=1, hours=3), 20)  # another hour: not the baseline
    _refunds_at(payment, now, last_hour)
    alerts = [line for line in unusual_activity_alerts(now) if "refunds" in line]
    assert bool(alerts) is fires, alerts
    if fires:
        assert f"{last_hour} refunds in the last hour" in alerts[0]
        assert f"against {per_day_last_week:.1f} on average" in alerts[0]


def test_unusual_failed_attempts_fire_from_declines(customer, settings):
    settings.PAYMENT_MAX_FAILED_ATTEMPTS_PER_HOUR = 100
    settings.ORDER_MAX_PENDING_PER_USER = 100
    product = ProductFactory(price=Decimal("5.00"), stock=100)
    for _ in range(10):
        make_paid(customer, product, token="tok_declined")
    alerts = unusual_activity_alerts(timezone.now())
    assert alerts == [
        "unusual activity: 10 failed payment attempts in the last hour, against 0.0 on average "
        "at this hour over the last week (> 3x)"
    ]
    assert any(line.startswith("unusual activity") for line in alert_checks())


def _oldest_processing():
    families = {family.name: family for family in PaymentCollector().collect()}
    return families["gamarriando_payment_oldest_processing_seconds"].samples[0].value


def test_stuck_alert_fires_on_one_payment_over_30s_not_on_steady_traffic(customer):
    product = ProductFactory(price=Decimal("5.00"), stock=10)
    payments = []
    for _ in range(3):
        payment = make_payment(customer, make_order(customer, product))
        Payment.objects.filter(pk=payment.pk).update(status="processing")
        payments.append(payment)
    now = timezone.now()
    # Steady traffic: three payments processing, each for a few seconds only.
    Payment.objects.filter(pk__in=[p.pk for p in payments]).update(
        updated_at=now - timedelta(seconds=5)
    )
    assert not [line for line in alert_checks(now=now) if "stuck" in line]
    assert 4 < _oldest_processing() < 30
    Payment.objects.filter(pk=payments[0].pk).update(updated_at=now - timedelta(seconds=31))
    assert [line for line in alert_checks(now=now) if "stuck" in line] == [
        "1 payment(s) stuck in processing for more than 30 s"
    ]
    assert _oldest_processing() > 30
    rules = {r["alert"]: r for r in yaml.safe_load(ALERTS.read_text())["groups"][0]["rules"]}
    assert (
        "gamarriando_payment_oldest_processing_seconds > 30"
        in rules["PaymentsStuckProcessing"]["expr"]
    )
    for name in ("UnusualRefundVolume", "UnusualFailedAttempts"):
        assert "offset 7d" in rules[name]["expr"] and ">= 10" in rules[name]["expr"]


def test_business_metrics_count_orders_events_amounts_and_duplicates(api, customer):
    before = {
        "orders_jpy": sample("gamarriando_orders_created_total", currency="JPY"),
        "created": sample("gamarriando_events_published_total", type="order.created"),
        "paid": sample("gamarriando_events_published_total", type="order.paid"),
        "jpy": sample(
            "gamarriando_payment_amount_total", currency="JPY", gateway="simulated", kind="charge"
        ),
        "replay": sample("gamarriando_duplicate_payment_attempts_total", kind="idempotent_replay"),
        "second": sample("gamarriando_duplicate_payment_attempts_total", kind="second_process"),
    }
    product = ProductFactory(price=Decimal("4800"), currency="JPY", stock=10)
    order = make_order(customer, product, currency="JPY")
    payment = make_payment(customer, order)
    client = api(customer)
    url = f"/api/v1/payments/{payment.pk}/process"
    body = {"payment_method_id": "tok_success"}
    assert client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="m1").status_code == 202
    assert client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="m1").status_code == 202
    assert client.post(url, body, format="json").status_code == 409  # a second process call
    assert sample("gamarriando_orders_created_total", currency="JPY") - before["orders_jpy"] == 1
    assert (
        sample("gamarriando_events_published_total", type="order.created") - before["created"] == 1
    )
    assert sample("gamarriando_events_published_total", type="order.paid") - before["paid"] == 1
    assert (
        sample(
            "gamarriando_payment_amount_total", currency="JPY", gateway="simulated", kind="charge"
        )
        - before["jpy"]
        == 4800
    )
    assert (
        sample("gamarriando_duplicate_payment_attempts_total", kind="idempotent_replay")
        - before["replay"]
        == 1
    )
    assert (
        sample("gamarriando_duplicate_payment_attempts_total", kind="second_process")
        - before["second"]
        == 1
    )


def test_grafana_and_alert_rules_only_use_metrics_the_service_exports():
    import json
    import re

    from prometheus_client import generate_latest

    exported = set(re.findall(r"^# HELP (\w+)", generate_latest(REGISTRY).decode(), re.M))
    dashboard = json.loads(
        (ALERTS.parents[1] / "grafana" / "gamarriando-payments.json").read_text()
    )
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    exprs += [r["expr"] for r in yaml.safe_load(ALERTS.read_text())["groups"][0]["rules"]]
    used = {
        re.sub(r"_(bucket|count|sum)$", "", name)
        for expr in exprs
        for name in re.findall(r"\bgamarriando_\w+", expr)
    }
    assert used - exported == set()
    titles = " ".join(p["title"] for p in dashboard["panels"]).lower()
    for topic in ("success rate", "latency", "refunds", "webhook", "queue lag", "currency"):
        assert topic in titles, topic

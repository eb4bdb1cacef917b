"""make bench: throughput of the hot endpoints as ratios to a trivial endpoint, in one run.

It builds a scratch test database (PostgreSQL when DATABASE_URL says so, else SQLite),
drives the real WSGI stack in-process with Django's test client, and prints requests per
second and the ratio to GET /health measured in the same run. Ratios, not seconds, are
what to compare between machines.
"""

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gamarriando.settings.test")

import django  # noqa: E402

django.setup()

from decimal import Decimal  # noqa: E402

from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402
from rest_framework_simplejwt.tokens import RefreshToken  # noqa: E402

DURATION = float(os.environ.get("BENCH_SECONDS", "3"))
ADDRESS = {
    "street": "Jr. Gamarra 1",
    "city": "Lima",
    "state": "Lima",
    "postal_code": "15018",
    "country": "PE",
}


def rate(label, call):
    """Run call for DURATION seconds; return calls per second."""
    call()  # warm up
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < DURATION:
        call()
        count += 1
    return label, count / (time.perf_counter() - started)


def webhook_ingest():
    """Return a call that posts a new, correctly signed Stripe event; tasks go to a broker."""
    import json as jsonlib
    import uuid

    from django.conf import settings
    from django.test import Client

    from gamarriando.celery import app
    from tests.fake_stripe import sign

    app.conf.task_always_eager = False  # ingest only: the event is queued, not applied
    app.conf.broker_url = "memory://"
    client = Client()

    def post():
        event = {
            "id": f"evt_{uuid.uuid4().hex}",
            "object": "event",
            "type": "payment_intent.succeeded",
            "created": int(time.time()),
            "livemode": False,
            "api_version": settings.STRIPE_API_VERSION,
            "data": {"object": {"id": "pi_bench", "object": "payment_intent"}},
        }
        body = jsonlib.dumps(event)
        response = client.post(
            "/webhooks/stripe",
            data=body,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=sign(body, settings.STRIPE_WEBHOOK_SECRET),
        )
        assert response.status_code == 200, response.content

    return post


def main():
    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.settings_dict.setdefault("TEST", {})["NAME"] = (
        "bench_gamarriando" if connection.vendor == "postgresql" else None
    )
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        from gamarriando.users.models import User
        from orders.models import Product

        user = User.objects.create_user(email="bench@example.com", password="bench-Passw0rd")
        product = Product.objects.create(
            sku="BENCH", name="Bench", price=Decimal("10.00"), stock=10**9
        )
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
        order_body = {
            "items": [{"product_id": product.pk, "quantity": 1}],
            "shipping_address": ADDRESS,
        }

        def create_and_pay():
            order = client.post("/api/v1/orders", order_body, format="json").json()
            payment = client.post(
                "/api/v1/payments",
                {
                    "order_id": order["id"],
                    "payment_method": "simulated",
                    "amount": order["total_amount"],
                },
                format="json",
            ).json()
            assert (
                client.post(
                    f"/api/v1/payments/{payment['id']}/process",
                    {"payment_method_id": "tok_success"},
                    format="json",
                ).json()["status"]
                == "completed"
            )

        for _ in range(50):
            create_and_pay()
        results = [
            rate("GET /health (trivial)", lambda: client.get("/health")),
            rate("GET /api/v1/products", lambda: client.get("/api/v1/products")),
            rate("GET /api/v1/orders (20 per page)", lambda: client.get("/api/v1/orders")),
            rate("GET /api/v1/transactions", lambda: client.get("/api/v1/transactions")),
            rate(
                "POST /api/v1/orders",
                lambda: client.post("/api/v1/orders", order_body, format="json"),
            ),
            rate("order + payment + process (3 POSTs)", create_and_pay),
        ]
        results.append(rate("POST /webhooks/stripe (verify, store, enqueue)", webhook_ingest()))
        baseline = results[0][1]
        print(
            f"database: {connection.vendor}; {DURATION:.0f} s per figure; webhook target: ratio >= 0.3"
        )
        print(f"{'endpoint':42} {'req/s':>9} {'ratio':>7}")
        for label, per_second in results:
            print(f"{label:42} {per_second:9.1f} {per_second / baseline:7.3f}")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()

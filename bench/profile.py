"""Statements per request, in-process, against the bench's seeded scratch database.

Run by bench/run.py (same environment: bench.settings, the scratch DATABASE_URL) while the
stack is up, or by hand against a database the bench kept (BENCH_KEEP_DB=1):

    python -m bench.profile                   JSON: SQL statements per request and per task
    python -m bench.profile --profile DIR     also cProfile each hot path 50 times into DIR

Requests go through Django's full WSGI stack (middleware, DRF, the idempotency layer) with
the test Client; tasks the requests enqueue are caught before they reach the broker and run
inline afterwards, each counted on its own, so a worker's share is visible apart from the
web's. CaptureQueriesContext sees every statement Django sends, BEGIN, COMMIT and
savepoints included (Django logs them since 4.2), which is how issue 9 counts its budget.
"""

import argparse
import cProfile
import json
import os
import pstats
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from rest_framework_simplejwt.tokens import RefreshToken  # noqa: E402

import gamarriando.queue  # noqa: E402
from bench.signing import stripe_signature  # noqa: E402
from gamarriando.celery import app as celery_app  # noqa: E402
from gamarriando.users.models import User  # noqa: E402
from orders.models import Order, Product  # noqa: E402

ADDRESS = {
    "street": "Jr. Gamarra 1",
    "city": "Lima",
    "state": "Lima",
    "postal_code": "15018",
    "country": "PE",
}
HTTP = {"HTTP_HOST": "127.0.0.1", "secure": True}  # behind the TLS proxy, as in production
caught: list = []  # (task, kwargs) enqueued on commit, held back from the broker


def _hold(task, kwargs, countdown=None):
    caught.append((task, kwargs))  # run at once: the outbox's batch window is not waited for
    return True


# Every task is sent through gamarriando.queue._send after commit; hold them here instead,
# so nothing of this script reaches the worker.
assert hasattr(gamarriando.queue, "_send"), "gamarriando.queue._send moved: update bench/profile.py"
gamarriando.queue._send = _hold
# This process also plays the worker (it runs the caught tasks), so it loads the task modules
# the way a worker does at start.
celery_app.loader.import_default_modules()


def run_caught() -> int:
    """Run the held-back tasks inline (and what they enqueue), return their statement count."""
    statements = 0
    while caught:
        task, kwargs = caught.pop(0)
        with CaptureQueriesContext(connection) as queries:
            task.apply(kwargs=kwargs, throw=True)
        statements += len(queries)
    return statements


class Caller:
    """A signed-in API client for one user."""

    def __init__(self, user):
        self.client = Client(
            HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}"
        )

    def get(self, path):
        response = self.client.get(path, **HTTP)
        assert response.status_code == 200, (path, response.status_code, response.content[:300])
        return response

    def post(self, path, body, expect):
        response = self.client.post(
            path,
            data=json.dumps(body),
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex,
            **HTTP,
        )
        assert response.status_code == expect, (path, response.status_code, response.content[:300])
        return response.json()


def counted(call) -> tuple[int, list[str]]:
    """Return how many statements one call sends, and their SQL."""
    with CaptureQueriesContext(connection) as queries:
        call()
    return len(queries), [query["sql"] for query in queries.captured_queries]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", metavar="DIR", help="write cProfile output into DIR")
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()

    lister = User.objects.get(email="bench-lister@example.com")
    buyer = User.objects.get(email="bench-buyer-1@example.com")
    order_id = Order.objects.filter(user=lister).order_by("pk").values_list("pk", flat=True)[0]
    product_id = Product.objects.order_by("pk").values_list("pk", flat=True)[0]
    reader, shopper, anonymous = Caller(lister), Caller(buyer), Client()
    order_body = {"items": [{"product_id": product_id, "quantity": 1}], "shipping_address": ADDRESS}

    def create_order():
        return shopper.post("/api/v1/orders", order_body, 201)

    def create_payment(order):
        return shopper.post(
            "/api/v1/payments",
            {
                "order_id": order["id"],
                "payment_method": "simulated",
                "amount": order["total_amount"],
            },
            201,
        )

    def process(payment):
        return shopper.post(
            f"/api/v1/payments/{payment['id']}/process", {"payment_method_id": "tok_success"}, 202
        )

    def webhook():
        body = json.dumps(
            {
                "id": f"evt_{uuid.uuid4().hex}",
                "object": "event",
                "type": "payment_intent.succeeded",
                "created": int(time.time()),
                "livemode": False,
                "api_version": settings.STRIPE_API_VERSION,
                "data": {"object": {"id": "pi_bench", "object": "payment_intent"}},
            }
        )
        response = anonymous.post(
            "/webhooks/stripe",
            data=body,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=stripe_signature(body, settings.STRIPE_WEBHOOK_SECRET),
            **HTTP,
        )
        assert response.status_code == 200, response.content

    reads = {
        "health": lambda: anonymous.get("/health", **HTTP),
        "products": lambda: anonymous.get("/api/v1/products", **HTTP),
        "order_detail": lambda: reader.get(f"/api/v1/orders/{order_id}"),
        "orders_list": lambda: reader.get("/api/v1/orders"),
        "transactions": lambda: reader.get("/api/v1/transactions"),
    }
    result, sql = {}, {}
    for name, call in reads.items():
        call()  # warm: first-request imports and caches are not what we count
        result[name], sql[name] = counted(call)

    create_order()
    run_caught()
    holder = {}
    result["order_create"], sql["order_create"] = counted(
        lambda: holder.update(order=create_order())
    )
    result["order_create_tasks"] = run_caught()
    result["payment_create"], sql["payment_create"] = counted(
        lambda: holder.update(payment=create_payment(holder["order"]))
    )
    result["payment_create_tasks"] = run_caught()
    result["payment_process"], sql["payment_process"] = counted(lambda: process(holder["payment"]))
    # The charge: execute_transaction (gateway call, settle) and the events it publishes.
    result["charge_settle_tasks"] = run_caught()
    webhook()
    caught.clear()
    result["webhook_ingest"], sql["webhook_ingest"] = counted(webhook)
    caught.clear()

    if args.profile:
        out = Path(args.profile)
        out.mkdir(parents=True, exist_ok=True)
        (out / "statements.json").write_text(json.dumps(sql, indent=2))
        hot = {
            "order_create": lambda: (create_order(), caught.clear()),
            "order_detail": reads["order_detail"],
            "orders_list": reads["orders_list"],
            # The web's side of a checkout: the three requests the storefront sends.
            "checkout_requests": lambda: (process(create_payment(create_order())), caught.clear()),
        }
        for name, call in hot.items():
            result[f"{name}_ms"] = profile(call, args.repeat, out / name)
        # The worker's side of a checkout: settle charges queued by process, with their events.
        queued = []
        for _ in range(2 * args.repeat + 1):  # profile() makes 2 * repeat + 1 calls
            process(create_payment(create_order()))
            queued.extend(caught)
            caught.clear()
        queued = [(task, kw) for task, kw in queued if task.name == "payments.execute_transaction"]

        def settle_one():
            caught.append(queued.pop())
            run_caught()

        result["charge_settle_ms"] = profile(settle_one, args.repeat, out / "charge_settle")
    print(json.dumps(result))


def profile(call, repeat: int, prefix: Path) -> float:
    """Time `repeat` calls, then profile as many; write .prof and a text summary; return ms."""
    call()
    started = time.perf_counter()
    for _ in range(repeat):
        call()
    per_call_ms = (time.perf_counter() - started) * 1000 / repeat
    profiler = cProfile.Profile()
    with enabled(profiler):
        for _ in range(repeat):
            call()
    profiler.dump_stats(f"{prefix}.prof")
    with open(f"{prefix}.txt", "w") as report:
        report.write(f"{prefix.name}: {per_call_ms:.2f} ms per call unprofiled, {repeat} calls\n")
        for order in ("tottime", "cumulative"):
            stats = pstats.Stats(profiler, stream=report)
            stats.sort_stats(order).print_stats(45)
    return round(per_call_ms, 2)


@contextmanager
def enabled(profiler):
    profiler.enable()
    try:
        yield
    finally:
        profiler.disable()


if __name__ == "__main__":
    main()

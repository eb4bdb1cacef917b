"""Seed the bench's scratch database: users and products through the ORM, bulk rows in SQL.

Run by bench/run.py with the bench environment (bench.settings, the scratch DATABASE_URL):

    python -m bench.seed base --orders 10000   users, products, the lister's orders
    python -m bench.seed grow --to 1000000     other customers' orders, up to a total
    python -m bench.seed backlog --count 5000  pending charges, queued for the (stopped) worker

Bulk rows are written with INSERT ... SELECT generate_series, which writes a million orders
with their lines and payments in a minute or two, instead of an hour through the ORM. The
last line printed is a JSON object for run.py.
"""

import argparse
import json
import os
import sys
import threading
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth.hashers import make_password  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from gamarriando.users.models import User  # noqa: E402
from orders.models import Product  # noqa: E402

PASSWORD = "bench-Passw0rd-2026"
LISTER = "bench-lister@example.com"
BUYERS = 8
PRODUCTS = 200
STOCK = 10_000_000
ADDRESS = json.dumps(
    {
        "street": "Jr. Gamarra 1",
        "city": "Lima",
        "state": "Lima",
        "postal_code": "15018",
        "country": "PE",
    }
)

# The lister's paid orders: two lines (10.00 + 2 x 5.00), one completed payment of 20.00.
# created_at steps back one second per order, so every cursor page is a real range.
INSERT_ORDERS = """
INSERT INTO orders_order (
    user_id, order_number, status, currency, total_amount, amount_paid, amount_refunded,
    shipping_address, billing_address, notes, cancel_reason, expires_at, created_at, updated_at
)
SELECT %(user_id)s, %(prefix)s || g, %(status)s, 'PEN', 20.00, %(paid)s, 0,
       %(address)s::jsonb, %(address)s::jsonb, '', '', %(expires_at)s,
       now() - %(step)s * g * interval '1 second', now() - %(step)s * g * interval '1 second'
FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS g
"""
INSERT_LINE = """
INSERT INTO orders_orderitem (order_id, product_id, quantity, unit_price, total_price)
SELECT o.id, p.ids[1 + ((o.id + %(shift)s) %% p.n)], %(quantity)s, %(unit_price)s, 10.00
FROM orders_order o, (SELECT array_agg(id ORDER BY id) AS ids, count(*) AS n
                      FROM orders_product) p
WHERE o.id > %(after)s
"""
LINES = [  # two lines per order, of two different products: 10.00 + 2 x 5.00
    {"shift": 0, "quantity": 1, "unit_price": Decimal("10.00")},
    {"shift": 1, "quantity": 2, "unit_price": Decimal("5.00")},
]
INSERT_PAYMENTS = """
INSERT INTO payments_payment (
    order_id, payment_method, amount, currency, status, authorized_amount, captured_amount,
    refunded_amount, attempts, payment_method_token, capture_on_process, return_url,
    gateway_transaction_id, gateway_response, failure_code, failure_message, next_action,
    disputed, stripe_payment_intent_id, metadata, saved_payment_method_id, save_payment_method,
    wallet, processed_at, created_at, updated_at
)
SELECT o.id, 'simulated', o.total_amount, 'PEN', %(status)s, %(settled)s, %(settled)s,
       0, 1, 'tok_success', true, '', %(reference)s, '{}'::jsonb, '', '', NULL,
       false, NULL, '{}'::jsonb, NULL, false, '', %(processed_at)s, o.created_at, o.created_at
FROM orders_order o
WHERE o.id > %(after)s
"""
INSERT_TRANSACTIONS = """
INSERT INTO transactions_transaction (
    payment_id, transaction_type, amount, currency, status, gateway_transaction_id,
    gateway_response, failure_reason, reason, created_by_id, idempotency_key,
    gateway_latency_ms, reconcile_attempts, next_reconcile_at, processed_at, created_at
)
SELECT p.id, 'charge', p.amount, 'PEN', %(status)s, %(reference)s, '{}'::jsonb, '', '',
       NULL, 'payment-' || p.id || '-attempt-1', NULL, 0, NULL, %(processed_at)s, p.created_at
FROM payments_payment p
WHERE p.order_id > %(after)s
"""


LISTED, QUEUED, CROWDED = "BENCH-L-", "BENCH-Q-", "BENCH-C-"
CROWD = 1000  # the other customers whose orders grow the table to 1M


def _scalar(sql: str, params=()) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def _max_order_id() -> int:
    return _scalar("SELECT coalesce(max(id), 0) FROM orders_order")


def _count(prefix: str) -> int:
    return _scalar("SELECT count(*) FROM orders_order WHERE order_number LIKE %s", [prefix + "%"])


def _bulk(*steps: tuple[str, dict]) -> None:
    """Run statements in one transaction with triggers off, on this thread's own connection.

    session_replication_role=replica skips the trigger-based foreign-key checks (what
    pg_restore --disable-triggers does): the rows are consistent by construction, and the
    deferred checks would otherwise cost as much as the inserts. Indexes are maintained.
    """
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")
            for sql, params in steps:
                cursor.execute(sql, params)
    finally:
        connection.close()


def _in_parallel(*jobs: list[tuple[str, dict]]) -> None:
    """Run each job (a list of statements) on its own connection, all at once."""
    errors: list[BaseException] = []

    def run(job):
        try:
            _bulk(*job)
        except BaseException as exc:  # re-raised below, in the caller's thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def _insert_paid_orders(
    user_id: int, first: int, last: int, *, ledger: bool, crowd: list[int] | None = None
) -> None:
    """Insert orders first..last for the user (or the crowd's users in turn), paid, with lines."""
    # Payments always, ledger rows when asked.
    after = _max_order_id()
    insert_orders = INSERT_ORDERS
    if crowd:
        insert_orders = INSERT_ORDERS.replace(
            "%(user_id)s", "(%(crowd)s::bigint[])[1 + g %% %(crowd_size)s]"
        )
    orders = {
        "crowd": crowd or [],
        "crowd_size": len(crowd or [1]),
        "prefix": CROWDED if crowd else LISTED,
        "step": 1,
        "user_id": user_id,
        "status": "paid",
        "paid": Decimal("20.00"),
        "address": ADDRESS,
        "expires_at": None,
        "first": first,
        "last": last,
    }
    _bulk((insert_orders, orders))
    payments = [
        (
            INSERT_PAYMENTS.replace("%(processed_at)s", "o.created_at").replace(
                "%(reference)s", "'sim_ch_bench_' || o.id"
            ),
            {"after": after, "status": "completed", "settled": Decimal("20.00")},
        )
    ]
    if ledger:
        payments.append(
            (
                INSERT_TRANSACTIONS.replace("%(processed_at)s", "p.created_at").replace(
                    "%(reference)s", "'sim_ch_bench_' || p.id"
                ),
                {"after": after, "status": "succeeded"},
            )
        )
    _in_parallel(*([(INSERT_LINE, {**line, "after": after})] for line in LINES), payments)


def _analyze() -> None:
    # VACUUM cannot run in a transaction; Django's connection is in autocommit here.
    with connection.cursor() as cursor:
        for table in (
            "orders_order",
            "orders_orderitem",
            "payments_payment",
            "transactions_transaction",
        ):
            cursor.execute(f"VACUUM ANALYZE {table}")


def base(orders: int) -> dict:
    """Users, products with plenty of stock, and the lister's paid orders with their ledger."""
    hashed = make_password(PASSWORD)  # once: the hasher takes a third of a second per call
    emails = [LISTER, *(f"bench-buyer-{n}@example.com" for n in range(BUYERS))]
    User.objects.bulk_create(User(email=email, password=hashed) for email in emails)
    lister = User.objects.get(email=LISTER)
    Product.objects.bulk_create(
        Product(
            sku=f"BENCH-{n:04d}", name=f"Bench product {n}", price=Decimal("10.00"), stock=STOCK
        )
        for n in range(PRODUCTS)
    )
    product_ids = list(Product.objects.order_by("pk").values_list("pk", flat=True))
    _insert_paid_orders(lister.pk, 1, orders, ledger=True)
    _analyze()
    return {
        "password": PASSWORD,
        "lister": LISTER,
        "buyers": emails[1:],
        "products": product_ids,
        "order_id": _scalar("SELECT min(id) FROM orders_order"),
        "orders": _scalar("SELECT count(*) FROM orders_order"),
    }


def grow(to: int) -> dict:
    """Add CROWD other customers' paid orders (no ledger rows) until the table holds `to`."""
    # A storefront's table grows with many customers' orders, and the 1M row asks whether one
    # customer's page slows as the table grows. Rounds 1 and 2 (and round 3's first run) gave
    # every added order to the lister: PostgreSQL then judged the lister's rows nearly all of
    # the table and read everyone's newer orders to find the lister's (docs/benchmarks.md,
    # round 3). The added orders step back one second each, so most are older than the
    # lister's.
    missing = to - _scalar("SELECT count(*) FROM orders_order")
    if missing > 0:
        hashed = make_password(PASSWORD)
        User.objects.bulk_create(
            (User(email=f"bench-crowd-{n}@example.com", password=hashed) for n in range(CROWD)),
            ignore_conflicts=True,  # a second grow reuses them
        )
        crowd = list(
            User.objects.filter(email__startswith="bench-crowd-").values_list("pk", flat=True)
        )
        first = _count(CROWDED) + 1
        _insert_paid_orders(0, first, first + missing - 1, ledger=False, crowd=crowd)
        _analyze()
    return {
        "orders": _scalar("SELECT count(*) FROM orders_order"),
        "lister_orders": _count(LISTED),
        "crowd": CROWD,
    }


def backlog(count: int) -> dict:
    """Write `count` orders each with a processing payment and a pending charge; queue them.

    This is what payment_process leaves behind (attempt 1, gateway key payment-{id}-attempt-1,
    the charge queued after commit), written in bulk so the backlog exists before the worker
    starts. The status-history row of the attempt is left out: the worker never reads it.
    """
    from gamarriando.celery import app

    buyer = User.objects.get(email="bench-buyer-0@example.com")
    first = _count(QUEUED) + 1
    after = _max_order_id()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            INSERT_ORDERS,
            {
                "prefix": QUEUED,
                "step": 0,
                "user_id": buyer.pk,
                "status": "pending",
                "paid": Decimal("0"),
                "address": ADDRESS,
                "expires_at": timezone.now() + timedelta(days=1),
                "first": first,
                "last": first + count - 1,
            },
        )
        for line in LINES:
            cursor.execute(INSERT_LINE, {**line, "after": after})
        cursor.execute(
            INSERT_PAYMENTS.replace("%(processed_at)s", "NULL").replace("%(reference)s", "''"),
            {"after": after, "status": "processing", "settled": Decimal("0")},
        )
        cursor.execute(
            INSERT_TRANSACTIONS.replace("%(processed_at)s", "NULL").replace("%(reference)s", "''"),
            {"after": after, "status": "pending"},
        )
        cursor.execute(
            "SELECT t.id FROM transactions_transaction t JOIN payments_payment p"
            " ON p.id = t.payment_id WHERE p.order_id > %s ORDER BY t.id",
            [after],
        )
        ids = [row[0] for row in cursor.fetchall()]
    started = time.perf_counter()
    with app.producer_or_acquire() as producer:
        for transaction_id in ids:
            app.send_task(
                "payments.execute_transaction",
                kwargs={"transaction_id": transaction_id},
                producer=producer,
            )
    return {
        "first_transaction": ids[0],
        "last_transaction": ids[-1],
        "queued": len(ids),
        "enqueue_seconds": round(time.perf_counter() - started, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("base").add_argument("--orders", type=int, default=10_000)
    commands.add_parser("grow").add_argument("--to", type=int, default=1_000_000)
    commands.add_parser("backlog").add_argument("--count", type=int, default=5_000)
    args = parser.parse_args()
    if args.command == "base":
        result = base(args.orders)
    elif args.command == "grow":
        result = grow(args.to)
    else:
        result = backlog(args.count)
    print(json.dumps(result))


if __name__ == "__main__":
    main()

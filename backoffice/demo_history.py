"""About 60 days of demo activity, made through the real services at the dates it happened.

time-machine moves the clock for each step, so every row (orders, payments, ledger, history,
events) carries its own date, exactly as if a shop had run for two months; nothing is
back-dated afterwards (the ledger is append-only). Deterministic: the same seed gives the same
history.
"""

import random
from datetime import datetime, timedelta
from decimal import Decimal

import time_machine
from celery import current_app
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from orders.models import Order, Product
from orders.services import order_create, order_expire_unpaid
from payments.models import DisputeStatus, Payment, PaymentStatus
from payments.services import (
    payment_cancel,
    payment_capture,
    payment_create,
    payment_process,
    payment_refund,
)
from payments.services.disputes import dispute_record

DAYS = 60
CUSTOMERS = [f"shopper{n}@gamarriando.pe" for n in range(1, 9)]
PASSWORD = "shopper-demo-2026"
# (token, capture) and how often; the rest of each day's story is drawn below.
OUTCOMES = [
    ("tok_success", True, 70),
    ("tok_declined", True, 8),
    ("tok_insufficient_funds", True, 4),
    ("tok_requires_action", True, 5),
    ("tok_success", False, 8),  # authorized, captured later (or voided)
]
CURRENCIES = [("PEN", 6), ("USD", 3), ("JPY", 2)]
ADDRESS = {
    "street": "Jr. Gamarra 123",
    "city": "Lima",
    "state": "Lima",
    "postal_code": "15018",
    "country": "PE",
}


def history_exists() -> bool:
    """True once the demo history has been made (it is made once)."""
    return Order.objects.filter(user__email__in=CUSTOMERS).exists()


def _pick(rng: random.Random, weighted):
    return rng.choices(weighted, weights=[w[-1] for w in weighted])[0]


class _History:
    def __init__(self, finance, rng: random.Random, now: datetime):
        self.finance = finance
        self.rng = rng
        self.now = now  # nothing is dated after it: a follow-up not due yet has not happened
        self.users = [self._customer(email) for email in CUSTOMERS]
        self.products = {
            currency: list(Product.objects.filter(currency=currency, is_active=True))
            for currency, _ in CURRENCIES
        }
        self.made = {"orders": 0, "payments": 0, "refunds": 0, "disputes": 0}
        self.disputed: set[str] = set()

    @staticmethod
    def _customer(email):
        User = get_user_model()
        user = User.objects.filter(email=email).first()
        return user or User.objects.create_user(email=email, password=PASSWORD)

    def order(self, when: datetime, currency: str | None = None):
        currency = currency or _pick(self.rng, CURRENCIES)[0]
        product = self.rng.choice(self.products[currency])
        user = self.rng.choice(self.users)
        with time_machine.travel(when, tick=True):
            order = order_create(
                user=user,
                items=[{"product_id": product.pk, "quantity": self.rng.randint(1, 3)}],
                shipping_address=dict(ADDRESS),
                currency=currency,
            )
        self.made["orders"] += 1
        return user, order

    def pay(self, when: datetime, user, order, token: str, capture: bool) -> Payment:
        with time_machine.travel(when + timedelta(minutes=2), tick=True):
            payment = payment_create(
                user=user,
                order_id=order.pk,
                payment_method="simulated",
                amount=order.total_amount,
            )
            payment_process(
                payment_id=payment.pk, actor=user, payment_method_id=token, capture=capture
            )
        self.made["payments"] += 1
        payment.refresh_from_db()
        return payment

    def later(self, when: datetime, hours: int, action, **kwargs):
        at = when + timedelta(hours=hours)
        if at > self.now:
            return None  # still ahead: the capture, void or refund waits for Finance
        with time_machine.travel(at, tick=True):
            return action(actor=self.finance, **kwargs)

    def day(self, when: datetime) -> None:
        for slot in range(self.rng.randint(1, 3)):
            at = when + timedelta(hours=9 + slot * 2, minutes=self.rng.randint(0, 59))
            user, order = self.order(at)
            token, capture, _ = _pick(self.rng, OUTCOMES)
            payment = self.pay(at, user, order, token, capture)
            self.follow_up(at, payment)
        # The expiry job, as beat runs it: unpaid orders (declines, abandoned 3-D Secure) lapse.
        with time_machine.travel(min(when + timedelta(days=1, hours=8), self.now), tick=True):
            order_expire_unpaid()

    def follow_up(self, at: datetime, payment: Payment) -> None:
        roll = self.rng.random()
        if payment.status == PaymentStatus.AUTHORIZED:
            if roll < 0.8:
                self.later(at, 20, payment_capture, payment_id=payment.pk)
            else:
                self.later(at, 30, payment_cancel, payment_id=payment.pk)  # a void
        elif payment.status == PaymentStatus.COMPLETED and roll < 0.12:
            full = roll < 0.04
            amount = (
                None
                if full
                else (payment.captured_amount / 2).quantize(
                    Decimal(1) if payment.currency == "JPY" else Decimal("0.01")
                )
            )
            reason = "customer returned the order" if full else "one item returned"
            refunded = self.later(
                at, 48, payment_refund, payment_id=payment.pk, amount=amount, reason=reason
            )
            self.made["refunds"] += refunded is not None

    def dispute(self, at: datetime, payment: Payment, status: str, due: datetime, ref: str):
        with time_machine.travel(at, tick=True):
            dispute_record(
                payment_id=payment.pk,
                gateway="simulated",
                gateway_dispute_id=ref,
                amount=payment.captured_amount,
                currency=payment.currency,
                reason="fraudulent",
                status=status,
                evidence_due_by=due,
            )
        self.disputed.add(ref)  # a dispute that moves on is still one dispute
        self.made["disputes"] = len(self.disputed)


def make_demo_history(*, finance, now: datetime | None = None, seed: int = 13) -> dict:
    """Make the demo history once; return what was made (empty when it already exists)."""
    if history_exists():
        return {}
    now = now or timezone.now()
    start = (now - timedelta(days=DAYS)).replace(hour=0, minute=0, second=0, microsecond=0)
    history = _History(finance, random.Random(seed), now)
    # Quick and predictable: no simulated latency, no random declines, and the worker's part
    # run inline even when a broker is configured, so each step sees the previous one's outcome.
    if connection.vendor == "sqlite":
        # The embedded demo database: skip the fsync per commit (a crash loses only demo rows).
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA synchronous = OFF")
    eager = current_app.conf.task_always_eager
    current_app.conf.task_always_eager = True
    try:
        # Past e-mails (receipts, dispute notices) are history too: none is sent now.
        with override_settings(
            SIMULATED_GATEWAY_DECLINE_RATE=0.0,
            SIMULATED_GATEWAY_LATENCY_MS=0,
            EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend",
        ):
            for offset in range(DAYS):
                history.day(start + timedelta(days=offset))
            _story(history, now)
    finally:
        current_app.conf.task_always_eager = eager
    return history.made


def _story(history: _History, now: datetime) -> None:
    """The named cases a clerk should find: a lost and an open dispute, an expired order."""
    lost_at = now - timedelta(days=40)
    user, order = history.order(lost_at, "USD")
    lost = history.pay(lost_at, user, order, "tok_success", True)
    history.dispute(lost_at + timedelta(days=3), lost, DisputeStatus.NEEDS_RESPONSE,
                    lost_at + timedelta(days=10), "sim_dp_demo_lost")  # fmt: skip
    history.dispute(lost_at + timedelta(days=12), lost, DisputeStatus.LOST,
                    lost_at + timedelta(days=10), "sim_dp_demo_lost")  # fmt: skip
    open_at = now - timedelta(days=6)
    user, order = history.order(open_at, "PEN")
    disputed = history.pay(open_at, user, order, "tok_success", True)
    history.dispute(now - timedelta(days=2), disputed, DisputeStatus.NEEDS_RESPONSE,
                    now + timedelta(days=5), "sim_dp_demo_open")  # fmt: skip
    expired_at = now - timedelta(days=3)
    history.order(expired_at, "PEN")  # never paid
    with time_machine.travel(expired_at + timedelta(days=1), tick=True):
        order_expire_unpaid()

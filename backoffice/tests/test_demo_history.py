"""seed_demo's history: two months of activity through the real services, made once."""

import io
import time
from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from backoffice.dashboard import dashboard_figures
from gamarriando.events import OutboxEvent
from orders.models import Order, OrderStatusHistory
from payments.models import Dispute, Payment, PaymentStatusHistory
from transactions.models import Transaction

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_seed_demo_makes_two_months_of_history_once(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    started = time.perf_counter()
    # Seeded early in a UTC morning, before the day's follow-ups (expiry at 08:00, captures and
    # refunds 20 to 48 hours after a payment) would be due: none of them may be dated ahead.
    early = (timezone.now() - timedelta(days=1)).replace(hour=4, minute=25, second=0, microsecond=0)
    out = io.StringIO()
    with time_machine.travel(early, tick=True):
        call_command("seed_demo", stdout=out)
    took = time.perf_counter() - started
    counts = (Order.objects.count(), Payment.objects.count(), Transaction.objects.count())
    assert counts[1] > 100

    payments = Payment.objects.all()
    assert set(payments.values_list("currency", flat=True)) == {"PEN", "USD", "JPY"}
    statuses = set(payments.values_list("status", flat=True))
    assert {"completed", "failed", "partially_refunded", "refunded", "cancelled"} <= statuses
    assert payments.filter(failure_code="insufficient_funds").exists()
    assert PaymentStatusHistory.objects.filter(to_status="requires_action").exists()  # 3-D Secure
    kinds = set(Transaction.objects.values_list("transaction_type", flat=True))
    assert {"charge", "authorization", "capture", "void", "refund", "chargeback"} <= kinds
    assert Order.objects.filter(status="cancelled", status_history__reason="expired").exists()
    assert f"{Dispute.objects.count()} disputes" in out.getvalue(), out.getvalue()
    open_dispute = Dispute.objects.get(status="needs_response")
    assert open_dispute.evidence_due_by > timezone.now()

    # Dated through the services at the time they happened: spread over ~60 days, none ahead.
    oldest = payments.order_by("created_at").first().created_at
    assert early - timedelta(days=61) < oldest < early - timedelta(days=58)
    seeded_at = early + timedelta(seconds=took + 1)
    for model in (Transaction, PaymentStatusHistory, OrderStatusHistory, OutboxEvent):
        assert not model.objects.filter(created_at__gt=seeded_at).exists(), model.__name__
    figures = dashboard_figures(days=90)
    assert [block.currency for block in figures.currencies] == ["JPY", "PEN", "USD"]
    assert all(block.refunded > 0 for block in figures.currencies if block.currency == "PEN")

    call_command("seed_demo", stdout=io.StringIO())  # idempotent
    assert (Order.objects.count(), Payment.objects.count(), Transaction.objects.count()) == counts
    assert took < 120, took

"""seed_demo's history: two months of activity through the real services, made once."""

import io
import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from backoffice.dashboard import dashboard_figures
from orders.models import Order
from payments.models import Dispute, Payment, PaymentStatusHistory
from transactions.models import Transaction

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_seed_demo_makes_two_months_of_history_once(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    started = time.perf_counter()
    call_command("seed_demo", stdout=io.StringIO())
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
    open_dispute = Dispute.objects.get(status="needs_response")
    assert open_dispute.evidence_due_by > timezone.now()

    # Dated through the services at the time they happened: spread over ~60 days, none ahead.
    oldest = payments.order_by("created_at").first().created_at
    assert timezone.now() - timedelta(days=61) < oldest < timezone.now() - timedelta(days=58)
    assert not Transaction.objects.filter(created_at__gt=timezone.now()).exists()
    figures = dashboard_figures(days=90)
    assert [block.currency for block in figures.currencies] == ["JPY", "PEN", "USD"]
    assert all(block.refunded > 0 for block in figures.currencies if block.currency == "PEN")

    call_command("seed_demo", stdout=io.StringIO())  # idempotent
    assert (Order.objects.count(), Payment.objects.count(), Transaction.objects.count()) == counts
    assert took < 120, took

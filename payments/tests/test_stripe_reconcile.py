"""The reconcile_stripe command repairs what no webhook told us, and reports it."""

from decimal import Decimal

import pytest

from payments.models import Payment
from transactions.models import Transaction

pytestmark = pytest.mark.django_db(transaction=True)


def test_reconcile_stripe_command_repairs_and_reports(paid_with_stripe, fake_stripe):
    from io import StringIO

    from django.core.management import call_command

    _, payment, pi = paid_with_stripe
    fake_stripe.dashboard_refund(pi["id"], 500)  # Stripe knows; no webhook reached us
    out = StringIO()
    call_command("reconcile_stripe", "--since", "2000-01-01", "--dry-run", stdout=out)
    assert "checked 1" in out.getvalue()
    assert not Transaction.objects.filter(transaction_type="refund").exists()
    call_command("reconcile_stripe", "--since", "2000-01-01", stdout=out)
    assert f"payment {payment.pk}: recorded refund 5.00" in out.getvalue()
    payment.refresh_from_db()
    assert payment.refunded_amount == Decimal("5.00")
    assert Payment.objects.get(pk=payment.pk).status == "partially_refunded"


@pytest.mark.parametrize(
    ("command", "gateway"), [("reconcile_stripe", "stripe"), ("reconcile_paypal", "paypal")]
)
def test_reconcile_without_the_gateways_keys_says_so_in_one_line(settings, command, gateway):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    settings.PAYMENT_GATEWAYS = [name for name in settings.PAYMENT_GATEWAYS if name != gateway]
    with pytest.raises(CommandError, match=f"Payment method '{gateway}' is not available"):
        call_command(command, "--since", "2026-11-01", "--dry-run")

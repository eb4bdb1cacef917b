"""manage.py wallet_audit: silent when entries and figures agree, loud on planted drift."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import F

from wallets import services
from wallets.models import Wallet
from wallets.tests.factories import funded_wallet

pytestmark = pytest.mark.django_db


def audit() -> str:
    out = StringIO()
    call_command("wallet_audit", stdout=out, stderr=out)
    return out.getvalue()


def test_audit_passes_when_every_wallet_agrees(customer, other_customer, finance):
    wallet = funded_wallet(customer, "50.00")
    funded_wallet(other_customer, "5", currency="JPY")
    hold = services.wallet_hold_place(
        user=customer, currency="PEN", amount=Decimal("20"), idempotency_key="a"
    )
    services.wallet_hold_deduct(hold_id=hold.pk, amount=Decimal("5"))
    services.wallet_adjust(wallet_id=wallet.pk, amount=Decimal("-3"), reason="r", actor=finance)
    assert "Every wallet agrees" in audit()


@pytest.mark.parametrize(
    "drift",
    [
        {"balance": F("balance") + 1},
        {"held": F("held") + Decimal("0.01")},
        {"version": F("version") + 1},
    ],
    ids=["balance", "held", "version"],
)
def test_audit_finds_planted_drift_and_exits_non_zero(customer, other_customer, drift):
    funded_wallet(other_customer, "7.00")
    wallet = funded_wallet(customer, "50.00")
    services.wallet_hold_place(
        user=customer, currency="PEN", amount=Decimal("10"), idempotency_key="b"
    )
    Wallet.objects.filter(pk=wallet.pk).update(**drift)  # a write that bypassed the services
    with pytest.raises(CommandError, match="1 wallet"):
        audit()


def test_audit_agrees_where_floating_sums_would_leave_a_speck(customer):
    # 19.90 held, 10.00 deducted, 9.90 released: summed as floats (SQLite) held is -1.8e-15.
    funded_wallet(customer, "19.90")
    hold = services.wallet_hold_place(
        user=customer, currency="PEN", amount=Decimal("19.90"), idempotency_key="c"
    )
    services.wallet_hold_deduct(hold_id=hold.pk, amount=Decimal("10.00"))
    assert "Every wallet agrees" in audit()

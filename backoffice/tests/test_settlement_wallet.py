"""Settlement: a refund to store credit is the wallet's, not the card gateway's."""

from decimal import Decimal

import pytest
from django.utils import timezone
from djstripe.models import BalanceTransaction

from backoffice.settlement import settlement_rows
from backoffice.tests.test_finance_reports import _paid
from payments.models import Payment
from payments.services import payment_refund
from transactions.models import Transaction

pytestmark = pytest.mark.django_db(transaction=True)


def _refund_ten_to_store_credit(payment, finance):
    return payment_refund(
        payment_id=payment.pk,
        actor=finance,
        amount=Decimal("10.00"),
        reason="goodwill",
        destination="wallet",
    )


def test_a_refund_to_store_credit_is_its_own_wallet_group_and_keeps_stripe_fees(customer, finance):
    payment = _paid(customer, "50.00", "PEN")
    Payment.objects.filter(pk=payment.pk).update(payment_method="stripe")
    ref = Transaction.objects.get(payment=payment).gateway_transaction_id
    BalanceTransaction.objects.create(
        id="txn_fake_w1",
        livemode=False,
        amount=5000,
        currency="pen",
        source=ref,
        type="charge",
        stripe_data={"fee": 219, "net": 4781},
    )
    _, txn = _refund_ten_to_store_credit(payment, finance)
    assert txn.gateway_transaction_id.startswith("we_")
    today = timezone.now().date()
    rows = {r.gateway: r for r in settlement_rows(start=today, end=today)}
    assert set(rows) == {"stripe", "wallet"}
    stripe = rows["stripe"]
    assert (stripe.gross, stripe.refunds, stripe.fees, stripe.net) == (
        Decimal("50.00"),
        Decimal("0.00"),
        Decimal("2.19"),
        Decimal("47.81"),
    )
    wallet = rows["wallet"]
    assert (wallet.gross, wallet.refunds) == (Decimal("0.00"), Decimal("10.00"))


def test_the_ledger_export_names_the_wallet_for_a_refund_to_store_credit(customer, finance, client):
    payment = _paid(customer, "50.00", "PEN")
    _refund_ten_to_store_credit(payment, finance)
    client.force_login(finance)
    response = client.get("/admin/transactions/transaction/export.csv")
    assert response.status_code == 200
    lines = b"".join(response.streaming_content).decode().splitlines()
    header = lines[0].split(",")
    gateway, kind = header.index("gateway"), header.index("type")
    by_kind = {line.split(",")[kind]: line.split(",")[gateway] for line in lines[1:]}
    assert by_kind == {"charge": "simulated", "refund": "wallet"}

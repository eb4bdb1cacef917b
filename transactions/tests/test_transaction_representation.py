"""A ledger row's fast rendering equals what its declared serializer fields render."""

from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework import serializers

from tests.helpers import make_order, make_payment
from transactions.api import TransactionOutputSerializer
from transactions.tests.factories import TransactionFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("processed", [False, True])
def test_ledger_row_renders_as_its_declared_fields(processed, customer, product):
    txn = TransactionFactory(
        payment=make_payment(customer, make_order(customer, product)),
        transaction_type="refund",
        amount=Decimal("12.50"),
        status="pending",
        reason="damaged in transit",
    )
    if processed:
        txn.processed_at = timezone.now()
    serializer = TransactionOutputSerializer(txn)
    declared = serializers.ModelSerializer.to_representation(serializer, txn)
    assert serializer.data == declared
    assert list(serializer.data) == list(declared)
    assert serializer.data["amount"] == "12.50"
    assert (serializer.data["processed_at"] is None) is not processed

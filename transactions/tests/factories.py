"""factory-boy factories for ledger rows."""

import factory

from transactions.models import Transaction, TransactionStatus, TransactionType


class TransactionFactory(factory.django.DjangoModelFactory):
    """A pending charge row for the given payment's amount; inserted, so the ledger guard allows it.

    `payment` is required: the transactions app imports no other app, its test factories included
    (build one with `payments.tests.factories.PaymentFactory` or the services).
    """

    class Meta:
        model = Transaction

    transaction_type = TransactionType.CHARGE
    amount = factory.SelfAttribute("payment.amount")
    currency = factory.SelfAttribute("payment.currency")
    status = TransactionStatus.PENDING

"""Stripe's fees and net amounts, read from the balance transactions dj-stripe mirrors."""

from decimal import Decimal

from djstripe.models import BalanceTransaction, Charge

from gamarriando.money import from_minor_units


def stripe_fees_by_reference(references: list[str]) -> dict[str, tuple[Decimal, Decimal]]:
    """Map our ledger references (pi_, re_, dp_ ids) to (fee, net) where Stripe reported them.

    A charge row's reference is its PaymentIntent, whose money moved on its charge; refunds and
    disputes are their own balance transactions' sources. A reference Stripe has not reported
    is simply absent: the caller shows it as unknown, never as zero.
    """
    charges = dict(
        Charge.objects.filter(payment_intent_id__in=references).values_list(
            "id", "payment_intent_id"
        )
    )
    sources = {ref: ref for ref in references} | charges
    found: dict[str, tuple[Decimal, Decimal]] = {}
    for bt in BalanceTransaction.objects.filter(source__in=list(sources)):
        fee, net = bt.fee, bt.net
        if fee is None or net is None:
            continue
        currency = bt.currency.upper()
        ref = sources[bt.source]
        prior_fee, prior_net = found.get(ref, (Decimal("0"), Decimal("0")))
        found[ref] = (
            prior_fee + from_minor_units(fee, currency),
            prior_net + from_minor_units(net, currency),
        )
    return found

"""Build wallet states through the real services."""

from decimal import Decimal

from wallets.models import Wallet
from wallets.services import wallet_credit


def funded_wallet(user, amount="100.00", currency="PEN") -> Wallet:
    """Credit the user's wallet and return it."""
    entry = wallet_credit(
        user=user, currency=currency, amount=Decimal(amount), reason="test credit"
    )
    return Wallet.objects.get(pk=entry.wallet_id)

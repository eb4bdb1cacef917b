"""The gateways enabled by settings, by name."""

from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

from gamarriando.errors import PaymentMethodError
from payments.gateways.base import Gateway
from payments.paypal.client import configured as paypal_configured
from payments.stripe.gateway import secret_key

GATEWAY_CLASSES = {
    "simulated": "payments.gateways.simulated.SimulatedGateway",
    "stripe": "payments.stripe.gateway.StripeGateway",
    "paypal": "payments.paypal.gateway.PayPalGateway",
    "wallet": "payments.gateways.wallet.WalletGateway",
}


@cache
def _build(name: str) -> Gateway:
    return import_string(GATEWAY_CLASSES[name])()


def enabled_gateway_names() -> list[str]:
    """Return the names of the gateways this deployment offers."""
    # The simulated gateway takes no money: production settings allow it only when told to.
    configured = {
        "simulated": settings.SIMULATED_GATEWAY_ALLOWED,
        "stripe": bool(secret_key()),
        "paypal": paypal_configured(),
        "wallet": True,  # store credit needs no keys
    }
    return [name for name in settings.PAYMENT_GATEWAYS if configured.get(name)]


def get_gateway(name: str) -> Gateway:
    """Return an enabled gateway.

    Raises:
        PaymentMethodError: the name is unknown or the gateway is not enabled.
    """
    if name not in enabled_gateway_names():
        raise PaymentMethodError(
            f"Payment method {name!r} is not available.", details={"payment_method": name}
        )
    return _build(name)

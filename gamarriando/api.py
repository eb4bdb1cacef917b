"""The /api/v1 router: every path answers with or without its trailing slash."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from gamarriando.users import api as users_api
from orders.api import OrderViewSet, ProductViewSet
from payments.api import LedgerViewSet, PaymentMethodListView, PaymentViewSet
from payments.saved_methods_api import (
    PaymentMethodConfigView,
    SavedPaymentMethodViewSet,
    SetupIntentView,
)
from wallets.api import WalletEntryViewSet, WalletListView


class OptionalSlashRouter(SimpleRouter):
    """A router whose routes match with or without the trailing slash (no redirects)."""

    def __init__(self):
        super().__init__()
        self.trailing_slash = "/?"


router = OptionalSlashRouter()
router.register("products", ProductViewSet, basename="product")
router.register("orders", OrderViewSet, basename="order")
router.register("payments", PaymentViewSet, basename="payment")
router.register("transactions", LedgerViewSet, basename="transaction")
router.register("payment-methods/saved", SavedPaymentMethodViewSet, basename="saved-payment-method")
router.register("wallet/entries", WalletEntryViewSet, basename="wallet-entry")

urlpatterns = [
    path("auth/register", users_api.RegisterView.as_view(), name="auth-register"),
    path("auth/register/", users_api.RegisterView.as_view()),
    path("auth/token", users_api.TokenView.as_view(), name="auth-token"),
    path("auth/token/", users_api.TokenView.as_view()),
    path("auth/token/refresh", users_api.TokenRefreshRotateView.as_view(), name="auth-refresh"),
    path("auth/token/refresh/", users_api.TokenRefreshRotateView.as_view()),
    path("auth/me", users_api.MeView.as_view(), name="auth-me"),
    path("auth/me/", users_api.MeView.as_view()),
    path("payment-methods", PaymentMethodListView.as_view(), name="payment-methods"),
    path("payment-methods/", PaymentMethodListView.as_view()),
    path(
        "payment-methods/config", PaymentMethodConfigView.as_view(), name="payment-methods-config"
    ),
    path("payment-methods/config/", PaymentMethodConfigView.as_view()),
    path("payment-methods/setup-intent", SetupIntentView.as_view(), name="setup-intent"),
    path("payment-methods/setup-intent/", SetupIntentView.as_view()),
    path("wallet", WalletListView.as_view(), name="wallet"),
    path("wallet/", WalletListView.as_view()),
    *router.urls,
]

"""Top-level routing: the API, the docs, health, webhooks and the admin."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from gamarriando.health import health, health_live
from gamarriando.metrics import metrics_view
from payments.paypal.webhook import paypal_webhook
from payments.stripe.webhook import stripe_webhook

# Errors raised outside any view (a middleware's) answer API clients with the envelope too.
handler400 = "gamarriando.error_views.bad_request"
handler500 = "gamarriando.error_views.server_error"

urlpatterns = [
    path("api/v1/", include("gamarriando.api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("health", health, name="health"),
    path("health/", health),
    path("health/live", health_live, name="health-live"),
    path("health/live/", health_live),
    path("webhooks/stripe", stripe_webhook, name="stripe-webhook"),
    path("webhooks/stripe/", stripe_webhook),
    path("webhooks/paypal", paypal_webhook, name="paypal-webhook"),
    path("webhooks/paypal/", paypal_webhook),
    path("metrics", metrics_view, name="metrics"),
    # The back office's screens first: they live under the admin's model addresses.
    path("admin/", include("backoffice.urls")),
    path("admin/", admin.site.urls),
]

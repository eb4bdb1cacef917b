"""Top-level routing: the API, the docs, health, webhooks and the admin."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from gamarriando.health import health

urlpatterns = [
    path("api/v1/", include("gamarriando.api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("health", health, name="health"),
    path("health/", health),
    path("admin/", admin.site.urls),
]

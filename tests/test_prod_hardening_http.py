"""Issue 18, items 3, 10, 12 and 18 over HTTP: the production switches of the simulated gateway,
/metrics and the API docs, and CORS for a storefront on its own origin."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from gamarriando.errors import PaymentMethodError
from gamarriando.staff_auth.tokens import mark_sign_in
from orders.tests.factories import OrderFactory, ProductFactory
from payments.gateways.registry import enabled_gateway_names, get_gateway
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

STOREFRONT = "https://tienda.gamarriando.pe"


# Item 3: the simulated gateway takes no money; outside local/test it must be allowed explicitly.


def test_simulated_gateway_is_not_configured_where_settings_refuse_it(settings, api, customer):
    settings.PAYMENT_GATEWAYS = ["simulated"]
    assert enabled_gateway_names() == ["simulated"]

    settings.SIMULATED_GATEWAY_ALLOWED = False
    assert enabled_gateway_names() == []
    with pytest.raises(PaymentMethodError):
        get_gateway("simulated")
    order = OrderFactory(user=customer, product=ProductFactory(price=Decimal("10.00")))
    response = api(customer).post(
        "/api/v1/payments",
        {"order_id": order.pk, "payment_method": "simulated", "amount": "10.00"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "PAYMENT_METHOD_ERROR"
    assert api(customer).get("/api/v1/payment-methods").json() == []


# Item 10: /metrics needs the token in production, even from loopback.


def test_metrics_refuse_loopback_without_the_token_where_loopback_is_not_trusted(client, settings):
    settings.METRICS_TOKEN = "scrape-me"
    assert client.get("/metrics").status_code == 200  # local: loopback is enough

    settings.METRICS_ALLOW_LOOPBACK = False
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", REMOTE_ADDR="::1").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-me").status_code == 200

    settings.METRICS_TOKEN = ""  # no token configured: nobody, not even "Bearer "
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 403


# Item 12: the schema and Swagger UI are staff-only in production, their assets served locally.


def test_docs_and_schema_are_public_in_local(client):
    assert client.get("/api/schema/", HTTP_ACCEPT="application/json").status_code == 200
    assert client.get("/api/docs/").status_code == 200


@pytest.mark.parametrize("path", ["/api/schema/", "/api/docs/"])
def test_docs_and_schema_are_staff_only_in_production(settings, api, customer, support, path):
    settings.API_DOCS_PUBLIC = False

    assert api().get(path).status_code == 401
    assert api(customer).get(path).status_code == 403
    assert api(support).get(path).status_code == 200  # a staff bearer token

    browser = APIClient()  # a staff member signed in to the admin
    browser.force_login(support)
    assert browser.get(path).status_code == 200
    inactive = UserFactory(email="gone@example.com", is_staff=True, is_active=False)
    browser.force_login(inactive)
    assert browser.get(path).status_code in (401, 403)


@pytest.mark.parametrize("path", ["/api/schema/", "/api/docs/"])
def test_money_staff_reach_the_docs_only_after_their_second_factor(settings, finance, path):
    settings.API_DOCS_PUBLIC = False
    settings.OTP_REQUIRED_FOR_MONEY_STAFF = True
    browser = APIClient()
    browser.force_login(finance)  # signed in by password only, no TOTP device yet
    assert browser.get(path).status_code == 403
    settings.OTP_REQUIRED_FOR_MONEY_STAFF = False  # local: the password is the whole sign-in
    assert browser.get(path).status_code == 200


@pytest.mark.parametrize("path", ["/api/schema/", "/api/docs/"])
def test_money_staff_reach_the_docs_by_token_only_from_a_sign_in_with_the_code(
    settings, finance, path
):
    settings.API_DOCS_PUBLIC = False
    settings.OTP_REQUIRED_FOR_MONEY_STAFF = True
    for with_code, allowed in ((False, 403), (True, 200)):
        refresh = RefreshToken.for_user(finance)
        mark_sign_in(refresh, with_code=with_code)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {refresh.access_token}")
        assert client.get(path).status_code == allowed


def test_swagger_ui_assets_come_from_our_static_files(client):
    page = client.get("/api/docs/").content.decode()
    assert "cdn.jsdelivr.net" not in page and "unpkg.com" not in page
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page


# Item 18: CORS for the storefront's origin, on /api/v1/ only, without credentials.


def preflight(client, path, origin):
    return client.options(
        path,
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, content-type, idempotency-key",
    )


def test_cors_allows_a_configured_origin_on_the_api(client, settings):
    settings.CORS_ALLOWED_ORIGINS = [STOREFRONT]

    response = preflight(client, "/api/v1/orders", STOREFRONT)
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == STOREFRONT
    assert response["Access-Control-Max-Age"] == "86400"
    allowed_headers = response["Access-Control-Allow-Headers"].lower()
    assert "authorization" in allowed_headers and "idempotency-key" in allowed_headers
    assert "Access-Control-Allow-Credentials" not in response

    listing = client.get("/api/v1/products", HTTP_ORIGIN=STOREFRONT)
    assert listing.status_code == 200
    assert listing["Access-Control-Allow-Origin"] == STOREFRONT
    assert "x-request-id" in listing["Access-Control-Expose-Headers"].lower()
    assert "Access-Control-Allow-Credentials" not in listing


def test_cors_refuses_other_origins_and_other_paths(client, settings):
    settings.CORS_ALLOWED_ORIGINS = [STOREFRONT]

    for origin in ("https://evil.example", "http://tienda.gamarriando.pe", "null"):
        assert "Access-Control-Allow-Origin" not in preflight(client, "/api/v1/orders", origin)
        assert "Access-Control-Allow-Origin" not in client.get(
            "/api/v1/products", HTTP_ORIGIN=origin
        )
    for path in ("/admin/login/", "/api/schema/", "/metrics", "/webhooks/stripe"):
        assert "Access-Control-Allow-Origin" not in preflight(client, path, STOREFRONT)


def test_cors_allows_no_origin_by_default(client):
    assert "Access-Control-Allow-Origin" not in preflight(client, "/api/v1/orders", STOREFRONT)

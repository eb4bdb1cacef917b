"""A thin PayPal REST client over requests: OAuth2 token, Orders v2, Payments v2, webhooks.

Not paypal-server-sdk: its base URL is a class attribute hard-wired to paypal.com (no option
points it at the test suite's fake server) and it has no verify-webhook-signature call, so
the handful of calls we make are written here over the requests we already ship.
"""

import threading
import time

import requests
from django.conf import settings
from urllib3.exceptions import NewConnectionError

from payments.gateways.base import GatewayTimeout, GatewayUnavailable

# Refresh the token this long before PayPal says it expires, so no call races its expiry.
TOKEN_MARGIN_SECONDS = 300
_token_lock = threading.Lock()
_tokens: dict[tuple[str, str], tuple[str, float]] = {}  # (base, client id) -> (token, expires)


class PayPalError(Exception):
    """PayPal refused a request (4xx): its error name and the first detail's issue."""

    def __init__(self, status: int, body: dict):
        self.status = status
        self.body = body if isinstance(body, dict) else {}
        details = self.body.get("details") or [{}]
        self.name = self.body.get("name") or self.body.get("error") or "UNKNOWN"
        self.issue = (details[0] or {}).get("issue", "") or self.name
        self.links = self.body.get("links") or []
        super().__init__(f"PayPal {status} {self.name} {self.issue}")


def configured() -> bool:
    """Say whether PayPal credentials are set (the `paypal` method is offered only then)."""
    return bool(settings.PAYPAL_CLIENT_ID and settings.PAYPAL_CLIENT_SECRET)


def _key() -> tuple[str, str]:
    return (settings.PAYPAL_API_BASE, settings.PAYPAL_CLIENT_ID)


def forget_token() -> None:
    """Drop the cached token (PayPal answered 401, or the credentials changed)."""
    with _token_lock:
        _tokens.pop(_key(), None)


def _send(method: str, url: str, **kwargs) -> requests.Response:
    """Send one request, sorting network failures into unavailable and unknown outcome."""
    try:
        return requests.request(method, url, timeout=settings.PAYPAL_TIMEOUT_SECONDS, **kwargs)
    except requests.ConnectTimeout as exc:
        raise GatewayUnavailable(f"PayPal unreachable: {exc}") from exc
    except requests.ConnectionError as exc:
        reason = getattr(exc.args[0], "reason", None) if exc.args else None
        if isinstance(reason, NewConnectionError):
            raise GatewayUnavailable(f"PayPal unreachable: {exc}") from exc
        raise GatewayTimeout(f"PayPal answer lost: {exc}") from exc  # it may have acted
    except requests.Timeout as exc:
        raise GatewayTimeout(f"PayPal timed out: {exc}") from exc
    except requests.RequestException as exc:
        raise GatewayUnavailable(f"PayPal request failed: {exc}") from exc


def access_token() -> str:
    """Return a cached client-credentials token, fetching a new one before the old expires."""
    with _token_lock:
        cached = _tokens.get(_key())
        if cached and cached[1] > time.monotonic():
            return cached[0]
        response = _send(
            "POST",
            f"{settings.PAYPAL_API_BASE}/v1/oauth2/token",
            auth=(settings.PAYPAL_CLIENT_ID, settings.PAYPAL_CLIENT_SECRET),
            data={"grant_type": "client_credentials"},
            headers={"Accept": "application/json"},
        )
        if response.status_code >= 500:
            raise GatewayUnavailable(f"PayPal token: {response.status_code}")
        if response.status_code != 200:
            raise GatewayUnavailable(f"PayPal refused our credentials: {response.status_code}")
        body = response.json()
        lifetime = max(int(body.get("expires_in", 0)) - TOKEN_MARGIN_SECONDS, 0)
        _tokens[_key()] = (body["access_token"], time.monotonic() + lifetime)
        return body["access_token"]


def call(method: str, path: str, *, body: dict | None = None, request_id: str = "") -> dict:
    """Make one API call and return its JSON; a write carries PayPal-Request-Id.

    Raises:
        PayPalError: PayPal refused the request (4xx other than an expired token).
        GatewayUnavailable: 5xx, 429 or no connection: nothing happened, retry with the same id.
        GatewayTimeout: the answer was lost: PayPal may have acted.
    """
    for attempt in (1, 2):
        headers = {
            "Authorization": f"Bearer {access_token()}",
            "Content-Type": "application/json",
            "Prefer": "return=representation",
        }
        if request_id:
            headers["PayPal-Request-Id"] = request_id
        response = _send(method, f"{settings.PAYPAL_API_BASE}{path}", json=body, headers=headers)
        if response.status_code == 401 and attempt == 1:
            forget_token()  # revoked or expired early: fetch a new one and send again
            continue
        break
    if response.status_code >= 500 or response.status_code == 429:
        raise GatewayUnavailable(f"PayPal {response.status_code} on {method} {path}")
    try:
        payload = response.json() if response.content else {}
    except ValueError as exc:
        raise GatewayUnavailable(f"PayPal sent no JSON on {method} {path}") from exc
    if response.status_code >= 400:
        raise PayPalError(response.status_code, payload)
    return payload

"""Throttles that survive their counter store (Redis) going away, and who a client is.

When the cache cannot be reached a throttle cannot count. What it does then depends on what it
guards (README, "Abuse limits"):

- fail open: order creation and token refresh, whose abuse a database limit bounds as well
  (pending orders per user, stock, an unguessable refresh token); the request goes on;
- fail closed, cleanly: sign-in and registration (the throttle is the only guard against
  password guessing and email probing) and the money writes (payment create, process, refund):
  503 SERVICE_UNAVAILABLE with Retry-After; the client retries with the same Idempotency-Key.

The client is ``REMOTE_ADDR`` unless ``TRUSTED_PROXIES`` (DRF's ``NUM_PROXIES``) says how many
proxies in front of us append to ``X-Forwarded-For``; a header the client made up is ignored.
"""

import hashlib

from redis.exceptions import RedisError
from rest_framework.throttling import ScopedRateThrottle, SimpleRateThrottle

from gamarriando.errors import ServiceUnavailable
from gamarriando.logging import get_logger
from gamarriando.users.emails import sign_in_key

logger = get_logger(__name__)
STORE_ERRORS = (RedisError, OSError)


class DegradingScopedRateThrottle(ScopedRateThrottle):
    """A scoped throttle (per user, else per client) that decides what an unreachable store means."""

    fail_open = True

    def __init__(self, scope: str | None = None, *, fail_open: bool | None = None):
        super().__init__()
        self.fixed_scope = scope
        if fail_open is not None:
            self.fail_open = fail_open

    def allow_request(self, request, view):
        try:
            if self.fixed_scope is None:
                return super().allow_request(request, view)
            # Several throttles guard one view here, so each carries its own scope.
            self.scope = self.fixed_scope
            self.rate = self.get_rate()
            self.num_requests, self.duration = self.parse_rate(self.rate)
            return SimpleRateThrottle.allow_request(self, request, view)
        except STORE_ERRORS as exc:
            logger.warning(
                "throttle_store_unavailable",
                scope=getattr(self, "scope", None),
                fail_open=self.fail_open,
                error=str(exc)[:200],
            )
            if self.fail_open:
                return True
            raise ServiceUnavailable(
                "Request limits cannot be checked right now; try again shortly."
            ) from exc


class AccountRateThrottle(DegradingScopedRateThrottle):
    """Count sign-in attempts per account (the email asked for), from whatever address."""

    fail_open = False

    def get_cache_key(self, request, view):
        email = request.data.get("email") if hasattr(request.data, "get") else None
        if not isinstance(email, str) or not email.strip():
            return None  # nothing to count per account; the per-client throttle still applies
        # The same key as the user lookup's (users.models): a spelling it does not count
        # under never signs in.
        digest = hashlib.sha256(sign_in_key(email).encode()).hexdigest()
        return self.cache_format % {"scope": self.scope, "ident": digest}


def throttles(*scopes: str, fail_open: bool) -> list[DegradingScopedRateThrottle]:
    """Build one per-user-or-client throttle per scope."""
    return [DegradingScopedRateThrottle(scope, fail_open=fail_open) for scope in scopes]

"""Outgoing HTTP of webhooks: no redirects, https where required, no internal addresses.

requests-hardened (Saleor's) resolves the host at send time, refuses loopback, private,
link-local (the 169.254.169.254 metadata service included), multicast and reserved addresses,
and connects to the very address it checked, with the Host header and TLS SNI of the name:
a DNS answer that changes between the check and the connection cannot reach inside.
"""

from urllib.parse import urlsplit

import requests
from django.conf import settings
from requests_hardened import Config, Manager
from requests_hardened.ip_filter import InvalidIPAddress

TIMEOUT = (5, 10)  # connect, read (seconds)
USER_AGENT = "Gamarriando-Webhooks/1.0"


class TargetRefused(Exception):
    """A webhook URL or address we will not send to."""


def target_check(url: str) -> None:
    """Refuse a URL by its form alone (scheme, host); the address is checked at send time.

    Raises:
        TargetRefused: the scheme is not allowed or the URL names no host.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise TargetRefused("Only http and https URLs are allowed.")
    if settings.WEBHOOK_REQUIRE_HTTPS and parts.scheme != "https":
        raise TargetRefused("Webhook URLs must use https.")
    if not parts.hostname:
        raise TargetRefused("The URL names no host.")


def _session() -> requests.Session:
    session = Manager(
        Config(
            ip_filter_enable=True,
            ip_filter_allow_loopback_ips=settings.WEBHOOK_ALLOW_LOOPBACK_TARGETS,
            never_redirect=True,
            default_timeout=TIMEOUT,
            user_agent_override=USER_AGENT,
        )
    ).get_session()
    session.trust_env = False  # no proxy, .netrc or CA bundle taken from the environment
    return session


def webhook_post(url: str, *, body: bytes, headers: dict) -> int:
    """POST a webhook and return the answer's status code; its body is never read.

    Raises:
        TargetRefused: the URL or the address its host resolves to is refused.
        requests.RequestException: the request failed (connection, timeout).
    """
    target_check(url)
    with _session() as session:
        try:
            response = session.post(
                url, data=body, headers=headers, stream=True, allow_redirects=False
            )
        except InvalidIPAddress as exc:
            raise TargetRefused(f"The host resolves to a refused address ({exc}).") from exc
        response.close()  # a redirect is an answer like any other: its status is recorded
        return response.status_code

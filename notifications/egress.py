"""Outgoing HTTP of webhooks: no redirects, https where required, no internal addresses.

requests-hardened (Saleor's) resolves the host at send time, refuses loopback, private,
link-local (the 169.254.169.254 metadata service included), multicast and reserved addresses,
and connects to the very address it checked, with the Host header and TLS SNI of the name:
a DNS answer that changes between the check and the connection cannot reach inside.
"""

import contextlib
import socket
import threading
from contextvars import ContextVar
from urllib.parse import urlsplit

import requests
from django.conf import settings
from requests_hardened import Config, Manager
from requests_hardened.ip_filter import InvalidIPAddress
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

TIMEOUT = (5, 10)  # connect, read (seconds): each socket read, not the whole answer
# The whole attempt, however the answer trickles in (a header every few seconds would keep
# each read under TIMEOUT for minutes): the delivery's claim outlives it (services.CLAIM).
DEADLINE_SECONDS = 20
USER_AGENT = "Gamarriando-Webhooks/1.0"


class TargetRefused(Exception):
    """A webhook URL or address we will not send to."""


class DeadlineExceeded(requests.Timeout):
    """The subscriber did not answer in full within DEADLINE_SECONDS."""


# The sockets the current attempt opened, so that its watchdog can cut them at the deadline.
_attempt_sockets: ContextVar[list | None] = ContextVar("webhook_attempt_sockets", default=None)


class _Watched:
    """A connection that hands its socket to the current attempt's watchdog once connected."""

    def connect(self):
        super().connect()
        sockets = _attempt_sockets.get()
        if sockets is not None:
            sockets.append(self.sock)


class _WatchedConnection(_Watched, HTTPConnection):
    pass


class _WatchedHTTPSConnection(_Watched, HTTPSConnection):
    pass


class _WatchedPool(HTTPConnectionPool):
    ConnectionCls = _WatchedConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


def _cut(sockets: list, expired: threading.Event) -> None:
    """The watchdog: shut the attempt's sockets, which ends a read blocked on any of them."""
    expired.set()
    for sock in list(sockets):
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


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
    for adapter in session.adapters.values():  # connections the watchdog can cut
        adapter.poolmanager.pool_classes_by_scheme = {
            "http": _WatchedPool,
            "https": _WatchedHTTPSPool,
        }
    return session


def webhook_post(url: str, *, body: bytes, headers: dict) -> int:
    """POST a webhook and return the answer's status code; its body is never read.

    A watchdog thread cuts the attempt at DEADLINE_SECONDS however the answer trickles in,
    in any thread or pool (no signals).

    Raises:
        TargetRefused: the URL or the address its host resolves to is refused.
        DeadlineExceeded: no complete answer within DEADLINE_SECONDS.
        requests.RequestException: the request failed (connection, timeout).
    """
    target_check(url)
    sockets: list = []
    expired = threading.Event()
    token = _attempt_sockets.set(sockets)
    watchdog = threading.Timer(DEADLINE_SECONDS, _cut, args=(sockets, expired))
    watchdog.daemon = True
    watchdog.start()
    try:
        with _session() as session:
            response = session.post(
                url, data=body, headers=headers, stream=True, allow_redirects=False
            )
            response.close()  # a redirect is an answer like any other: its status counts
        if expired.is_set():
            # Cut while its headers were still coming in: http.client reads the cut as their
            # end, so what came back is not the subscriber's whole answer.
            raise DeadlineExceeded(f"No complete answer within {DEADLINE_SECONDS} s.")
    except InvalidIPAddress as exc:
        raise TargetRefused(f"The host resolves to a refused address ({exc}).") from exc
    except requests.RequestException as exc:
        if expired.is_set():
            raise DeadlineExceeded(f"No complete answer within {DEADLINE_SECONDS} s.") from exc
        raise
    finally:
        watchdog.cancel()
        _attempt_sockets.reset(token)
    return response.status_code

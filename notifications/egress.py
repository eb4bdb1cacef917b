"""Outgoing HTTP of webhooks: no redirects, https where required, no internal addresses.

requests-hardened (Saleor's) resolves the host at send time, refuses loopback, private,
link-local (the 169.254.169.254 metadata service included), multicast and reserved addresses,
and connects to the very address it checked, with the Host header and TLS SNI of the name:
a DNS answer that changes between the check and the connection cannot reach inside.
"""

import signal
import threading
from contextlib import contextmanager
from urllib.parse import urlsplit

import requests
from django.conf import settings
from requests_hardened import Config, Manager
from requests_hardened.ip_filter import InvalidIPAddress

TIMEOUT = (5, 10)  # connect, read (seconds): each socket read, not the whole answer
# The whole attempt, however the answer trickles in (a header every few seconds would keep
# each read under TIMEOUT for minutes): the delivery's claim outlives it (services.CLAIM).
DEADLINE_SECONDS = 20
USER_AGENT = "Gamarriando-Webhooks/1.0"


class TargetRefused(Exception):
    """A webhook URL or address we will not send to."""


class DeadlineExceeded(requests.Timeout):
    """The subscriber did not answer in full within DEADLINE_SECONDS."""


class _Expired(Exception):  # noqa: N818 - not an OSError, so urllib3 lets it through unwrapped
    """Raised by the alarm inside the POST; webhook_post turns it into DeadlineExceeded."""


@contextmanager
def _deadline(seconds: float):
    """Interrupt the block after `seconds` with DeadlineExceeded (a worker's main thread)."""
    # SIGALRM reaches only the main thread, where Celery's prefork children run their tasks;
    # elsewhere (a task run inline by a web thread) each read's TIMEOUT is the only bound.
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum, frame):
        raise _Expired

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


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
        requests.RequestException: the request failed (connection, timeout, DeadlineExceeded).
    """
    target_check(url)
    with _session() as session:
        try:
            with _deadline(DEADLINE_SECONDS):
                response = session.post(
                    url, data=body, headers=headers, stream=True, allow_redirects=False
                )
                response.close()  # a redirect is an answer like any other: its status counts
        except InvalidIPAddress as exc:
            raise TargetRefused(f"The host resolves to a refused address ({exc}).") from exc
        except _Expired:
            raise DeadlineExceeded(f"No complete answer within {DEADLINE_SECONDS} s.") from None
        return response.status_code

"""Fixtures of the notification tests: local endpoints that receive our webhooks, a superuser."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from notifications.signing import verify
from notifications.tests.factories import WebhookSubscriptionFactory
from tests.factories import UserFactory


class Endpoint:
    """A local HTTP endpoint that records every request and gives a set answer.

    The handler runs in the server's thread, where a failed assertion would only be logged, so it
    only records; the tests assert on what it recorded, in their own thread.
    """

    def __init__(self):
        self.requests, self.answer = [], (200, {}, b"ok")
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status, headers, answer = endpoint.receive(self.headers, body)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def receive(self, headers, body: bytes) -> tuple[int, dict, bytes]:
        """Record the request; return the answer's status, headers and body."""
        self.requests.append((dict(headers), body))
        return self.answer


class Subscriber(Endpoint):
    """An endpoint that can be down (503) or up, and keeps the events it accepted.

    It records each request's body and signature header; `unverified()` checks the signatures in
    the caller's thread.
    """

    def __init__(self):
        self.up, self.received, self.secret = False, [], None
        super().__init__()

    def receive(self, headers, body: bytes) -> tuple[int, dict, bytes]:
        self.requests.append((body, headers["Gamarriando-Signature"]))
        if not self.up:
            return 503, {}, b""
        self.received.append(json.loads(body))
        return 200, {}, b"ok"

    def unverified(self) -> list[bytes]:
        """Return the bodies of requests whose signature does not verify with the secret."""
        return [
            body
            for body, signature in self.requests
            if signature is None or not verify(body, signature, self.secret)
        ]


@pytest.fixture
def subscriber():
    endpoint = Subscriber()
    subscription = WebhookSubscriptionFactory(url=endpoint.url)
    endpoint.secret = subscription.secret
    yield endpoint
    endpoint.server.shutdown()


@pytest.fixture
def endpoint():
    server = Endpoint()
    yield server
    server.server.shutdown()


@pytest.fixture
def other_endpoint():
    server = Endpoint()
    yield server
    server.server.shutdown()


@pytest.fixture
def superuser(db):
    return UserFactory(email="root@example.com", is_staff=True, is_superuser=True)

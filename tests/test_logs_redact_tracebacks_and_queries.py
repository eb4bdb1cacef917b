"""Logs redact rendered tracebacks too, and no access log keeps query string values."""

import base64
import io
import json
import logging
import runpy
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import quote

import pytest
import structlog

from gamarriando.logging import json_formatter

pytestmark = pytest.mark.django_db

CARD = "4111 1111 1111 1111"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyX2lkIjo0Mn0.c2lnbmF0dXJlLXRoYXQtbXVzdC1ub3QtbGVhaw"
STRIPE_KEY = "sk_live_" + "a1B2c3D4" * 3


@pytest.fixture
def log_lines():
    """Capture what the root logger writes through the JSON formatter, as parsed lines."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(json_formatter())
    root = logging.getLogger()
    root.addHandler(handler)
    lines = SimpleNamespace(text=lambda: stream.getvalue())
    lines.parsed = lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    yield lines
    root.removeHandler(handler)


def _fail():
    raise ValueError(f"charge refused for {CARD} with token {JWT} and key {STRIPE_KEY}")


@pytest.mark.parametrize("via", ["structlog", "stdlib"])
def test_a_rendered_traceback_is_redacted_and_still_readable(log_lines, via):
    try:
        _fail()
    except ValueError:
        if via == "structlog":
            structlog.get_logger("test").exception("gateway_call_failed")
        else:
            logging.getLogger("some.library").exception("gateway call failed")
    text = log_lines.text()
    assert "4111" not in text and JWT not in text and STRIPE_KEY not in text
    line = log_lines.parsed()[-1]
    assert (
        "Traceback" in line["exception"] and "ValueError: charge refused for" in line["exception"]
    )
    assert line["exception"].count("[REDACTED]") == 3


def test_an_unhandled_api_error_logs_no_card_or_token(api, customer, monkeypatch, log_lines):
    from orders import selectors

    def explode(user):
        raise RuntimeError(f"lookup failed near {CARD}, Bearer {JWT}")

    monkeypatch.setattr(selectors, "order_visible_to", explode)
    client = api(customer)
    client.raise_request_exception = False
    assert client.get("/api/v1/orders").status_code == 500
    text = log_lines.text()
    assert "unhandled_error" in text and "RuntimeError" in text
    assert "4111" not in text and JWT not in text


def test_the_access_log_keeps_query_keys_but_no_values(api, customer, log_lines):
    response = api(customer).get(
        "/api/v1/orders?page_size=5&token=sEcReT-v4lue&ordering=created_at"
    )
    assert response.status_code == 200
    access = [line for line in log_lines.parsed() if line["event"] == "request"][-1]
    assert access["path"] == "/api/v1/orders"
    assert access["query_keys"] == ["ordering", "page_size", "token"]
    assert "sEcReT-v4lue" not in log_lines.text()


def test_the_development_server_line_loses_its_query_string():
    from django.conf import settings

    assert settings.LOGGING["loggers"]["django.server"]["handlers"] == ["console"]
    record = logging.LogRecord(
        "django.server",
        logging.WARNING,
        __file__,
        1,
        '"%s" %s %s',
        ("GET /api/v1/orders?token=sEcReT-v4lue HTTP/1.1", "404", "58"),
        None,
    )
    line = json.loads(json_formatter().format(record))
    assert line["event"] == '"GET /api/v1/orders HTTP/1.1" 404 58'


def gunicorn_conf(monkeypatch, tmp_path) -> dict:
    """Run gunicorn.conf.py as gunicorn does, keeping what it sets in os.environ to this test."""
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    return runpy.run_path(str(Path(__file__).resolve().parent.parent / "gunicorn.conf.py"))


def access_line(conf: dict, status: str, raw_uri: str, headers=(), **environ) -> str:
    """The access-log line gunicorn writes for one request, with the repo's format and logger."""
    from gunicorn.config import Config

    config = Config()
    for name in ("access_log_format", "logger_class"):
        config.set(name, conf[name])
    logger = config.logger_class(config)
    path, _, query = raw_uri.partition("?")
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": raw_uri,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "203.0.113.9",
        **environ,
    }
    response = SimpleNamespace(status=status, sent=12, headers=[])
    request = SimpleNamespace(headers=list(headers))
    atoms = logger.atoms(response, request, environ, timedelta(milliseconds=7))
    return config.access_log_format % logger.atoms_wrapper_class(atoms)


def test_gunicorns_access_log_format_has_the_path_without_the_query(monkeypatch, tmp_path):
    line = access_line(
        gunicorn_conf(monkeypatch, tmp_path),
        "200 OK",
        "/api/v1/orders?token=sEcReT-v4lue",
        HTTP_REFERER="https://shop.example/checkout?token=sEcReT-v4lue",
    )
    assert '"GET /api/v1/orders HTTP/1.1" 200' in line
    assert "sEcReT" not in line


def test_gunicorns_access_log_redacts_a_card_number_in_the_path(monkeypatch, tmp_path):
    conf = gunicorn_conf(monkeypatch, tmp_path)
    line = access_line(conf, "404 Not Found", "/api/v1/orders/4111111111111111")
    assert "4111111111111111" not in line and '"GET /api/v1/orders/' in line


def test_gunicorns_access_log_redacts_the_user_agent_and_the_basic_auth_user(monkeypatch, tmp_path):
    # QA finding 6: %(a)s and %(u)s are the client's text as much as the path is.
    basic = base64.b64encode(b"4111111111111111:pw").decode()
    line = access_line(
        gunicorn_conf(monkeypatch, tmp_path),
        "200 OK",
        "/api/v1/orders",
        HTTP_USER_AGENT=f"Mozilla/5.0 card {CARD}",
        HTTP_AUTHORIZATION=f"Basic {basic}",
    )
    assert "4111" not in line
    assert line.count("[REDACTED]") == 2 and '"Mozilla/5.0 card [REDACTED]"' in line


def test_gunicorns_access_log_redacts_header_and_environ_atoms_a_format_names(
    monkeypatch, tmp_path
):
    conf = gunicorn_conf(monkeypatch, tmp_path)
    conf = {
        **conf,
        "access_log_format": conf["access_log_format"]
        + ' "%({X-Note}i)s" "%({http_x_note}e)s" "%(m)s" "%(r)s" "%(f)s" %(s)s %(p)s',
    }
    line = access_line(
        conf,
        "200 OK",
        "/api/v1/orders",
        headers=[("X-NOTE", CARD)],
        HTTP_X_NOTE=f"bearer {JWT}",
        HTTP_REFERER=f"https://shop.example/{CARD}",
    )
    assert "4111" not in line and JWT not in line
    assert '"[REDACTED]" "bearer [REDACTED]"' in line and '"GET"' in line and " 200 <" in line


SPLIT_PATHS = [
    "/api/v1/orders/4111\t1111\t1111\t1111",
    "/api/v1/orders/4111\u20131111\u20131111\u20131111",
    "/api/v1/orders/4111\u200b1111\u200b1111\u200b1111",
    "/api/v1/orders/4111_1111_1111_1111",
]


@pytest.mark.parametrize("path", SPLIT_PATHS)
def test_gunicorns_access_log_redacts_a_card_split_by_other_separators(monkeypatch, tmp_path, path):
    line = access_line(gunicorn_conf(monkeypatch, tmp_path), "404 Not Found", path)
    assert "4111" not in line and '"GET /api/v1/orders/[REDACTED] HTTP/1.1" 404' in line


@pytest.mark.parametrize("path", SPLIT_PATHS)
def test_the_access_log_redacts_a_card_split_by_other_separators(api, customer, log_lines, path):
    assert api(customer).get(quote(path)).status_code == 404
    access = [line for line in log_lines.parsed() if line["event"] == "request"][-1]
    assert access["path"] == "[REDACTED]"
    assert "4111" not in log_lines.text()


@pytest.mark.parametrize(("trusted", "believed_from"), [("0", []), ("1", ["127.0.0.1", "::1"])])
def test_gunicorn_believes_forwarded_proto_only_behind_trusted_proxies(
    monkeypatch, tmp_path, trusted, believed_from
):
    from gunicorn.config import Config

    monkeypatch.setenv("TRUSTED_PROXIES", trusted)
    conf = gunicorn_conf(monkeypatch, tmp_path)
    config = Config()
    if "forwarded_allow_ips" in conf:
        config.set("forwarded_allow_ips", conf["forwarded_allow_ips"])
    assert config.forwarded_allow_ips == believed_from


def test_gunicorns_error_log_drops_the_query_and_redacts_the_rest(monkeypatch, tmp_path):
    """gunicorn's "Error handling request <uri>" (a worker's crash, a timeout) names the URI."""
    from gunicorn.config import Config

    conf = gunicorn_conf(monkeypatch, tmp_path)
    config = Config()
    config.set("logger_class", conf["logger_class"])
    config.set("errorlog", str(tmp_path / "error.log"))
    logger = config.logger_class(config)
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logger.exception("Error handling request %s", f"/health?access_token={JWT}")
    logger.error("Error handling request %s", f"/api/v1/orders/{CARD}")
    written = (tmp_path / "error.log").read_text()
    assert "Error handling request /health\n" in written and "RuntimeError: boom" in written
    assert JWT not in written and "access_token" not in written and "4111" not in written

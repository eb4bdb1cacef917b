"""Settings shapes: the embedded default and the production shape, which fails closed."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from gamarriando.settings.base import LOCAL_SECRET_KEY

ROOT = Path(__file__).resolve().parents[1]
SECRET_KEY = "Vq3-r9Zt_Lm8#Wp2@Hx6!Kd4%Nb7^Gs1&Yc5*Jf0(Ue8)Ta3=Rw6+Qz9"
JWT_SECRET_KEY = "jB7#qL2@xR9!mT4$wZ6%nC1^vK8&pF3*hD5(sG0)eY2_uN6-oI9+aW4"
# What production needs and nothing else: no DEBUG, gateways or secrets from the caller.
PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "gamarriando.settings.production",
    "SECRET_KEY": SECRET_KEY,
    "JWT_SECRET_KEY": JWT_SECRET_KEY,
    "ALLOWED_HOSTS": "pay.gamarriando.pe",
    "EMAIL_URL": "smtp+tls://mailer:secret@smtp.gamarriando.pe:587",
    "DATABASE_URL": "postgres://gamarriando@db:5432/gamarriando",
    "REDIS_URL": "redis://redis:6379/0",
}
PASSED_THROUGH = {"PATH", "HOME", "LANG", "PYTHONPATH", "VIRTUAL_ENV", "TMPDIR"}


def bare_environment(**env):
    """The process environment with only the basics kept, plus env."""
    kept = {k: v for k, v in os.environ.items() if k in PASSED_THROUGH or k.startswith("LC_")}
    return {**kept, **env}


def run_python(args, **env):
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=bare_environment(**env),
        capture_output=True,
        text=True,
        timeout=60,
    )


def run_django(settings_module, code, **env):
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "DEBUG"}
    }
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": settings_module, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_shape_passes_check_deploy_without_warnings():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={
            **os.environ,
            **PRODUCTION,
            "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/gamarriando",
            "REDIS_URL": "redis://127.0.0.1:6379/0",
        },
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_shape_pools_postgres_connections_and_uses_redis():
    code = (
        "from django.conf import settings as s; "
        "print(s.DATABASES['default']['OPTIONS']['pool']['max_size'], s.CACHES['default']['BACKEND'], "
        "s.CELERY_TASK_ALWAYS_EAGER, s.DEBUG)"
    )
    result = run_django(
        "gamarriando.settings.production",
        code,
        SECRET_KEY=SECRET_KEY,
        JWT_SECRET_KEY=JWT_SECRET_KEY,
        ALLOWED_HOSTS="pay.gamarriando.pe",
        EMAIL_URL="smtp://mail:25",
        DATABASE_URL="postgres://u@db:5432/g",
        REDIS_URL="redis://r:6379/0",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "10",
        "gamarriando.cache.ReusedClientRedisCache",
        "False",
        "False",
    ]


def test_embedded_default_needs_nothing():
    code = (
        "from django.conf import settings as s; "
        "print(s.DATABASES['default']['ENGINE'], s.CACHES['default']['BACKEND'], s.CELERY_TASK_ALWAYS_EAGER); "
        "from payments.gateways.registry import enabled_gateway_names; print(enabled_gateway_names())"
    )
    result = run_django("gamarriando.settings.local", code, STRIPE_TEST_SECRET_KEY="")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.sqlite3",
        "django.core.cache.backends.locmem.LocMemCache",
        "True",
        "['simulated',",  # stripe is offered only once its keys are set
        "'wallet']",  # store credit needs no keys
    ]


# Issue 18, item 9: every entry point defaults to production, which needs its secrets and hosts.


def test_entry_points_default_to_the_production_settings():
    shell = "from django.conf import settings; print(settings.SETTINGS_MODULE, settings.DEBUG)"
    env = {k: v for k, v in PRODUCTION.items() if k != "DJANGO_SETTINGS_MODULE"}
    result = run_python(["manage.py", "shell", "--no-imports", "-c", shell], **env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["gamarriando.settings.production", "False"]
    for module in ("gamarriando.wsgi", "gamarriando.celery"):
        code = f"import os, {module}; print(os.environ['DJANGO_SETTINGS_MODULE'])"
        result = run_python(["-c", code], **env)
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "gamarriando.settings.production", module


def test_entry_points_without_secrets_refuse_to_start():
    for args in (["manage.py", "check"], ["-c", "import gamarriando.wsgi"]):
        result = run_python(args)
        assert result.returncode != 0
        assert "ImproperlyConfigured: Set the SECRET_KEY environment variable." in result.stderr


def load_production(**env):
    """Import the production settings module alone and print what the test asks for."""
    code = (
        "import gamarriando.settings.production as s; "
        "print(repr(getattr(s, 'SECURE_PROXY_SSL_HEADER', None)), s.PAYMENT_GATEWAYS, "
        "s.SIMULATED_GATEWAY_ALLOWED, s.SIMULATED_GATEWAY_IN_PRODUCTION, "
        "s.METRICS_ALLOW_LOOPBACK, s.API_DOCS_PUBLIC, s.SIMPLE_JWT['SIGNING_KEY'] == s.SECRET_KEY, "
        "s.ALLOWED_HOSTS, s.OTP_REQUIRED_FOR_MONEY_STAFF, s.EMAIL_BACKEND, sep='|')"
    )
    chosen = {k: v for k, v in {**PRODUCTION, **env}.items() if v is not None}  # None: unset
    return run_python(["-c", code], **chosen)


@pytest.mark.parametrize(
    "env, message",
    [
        ({"SECRET_KEY": ""}, "Set the SECRET_KEY environment variable."),
        ({"JWT_SECRET_KEY": ""}, "Set the JWT_SECRET_KEY environment variable."),
        ({"JWT_SECRET_KEY": SECRET_KEY}, "JWT_SECRET_KEY must differ from SECRET_KEY."),
        ({"JWT_SECRET_KEY": "short"}, "JWT_SECRET_KEY must be at least 50 characters long"),
        # QA finding 7: weak values production took.
        ({"SECRET_KEY": "x"}, "SECRET_KEY must be at least 50 characters long"),
        ({"SECRET_KEY": "ab" * 40}, "SECRET_KEY must be at least 50 characters long"),
        ({"JWT_SECRET_KEY": "a" * 32}, "JWT_SECRET_KEY must be at least 50 characters long"),
        ({"JWT_SECRET_KEY": "abcd" * 20}, "JWT_SECRET_KEY must be at least 50 characters long"),
        ({"SECRET_KEY": "django-insecure-" + JWT_SECRET_KEY}, "SECRET_KEY must be at least 50"),
        ({"SECRET_KEY": LOCAL_SECRET_KEY}, "SECRET_KEY is the local default published in"),
        ({"JWT_SECRET_KEY": LOCAL_SECRET_KEY}, "JWT_SECRET_KEY is the local default published"),
        ({"CELERY_BROKER_URL": "memory://"}, "CELERY_BROKER_URL must be a Redis or AMQP broker"),
        ({"CELERY_BROKER_URL": "filesystem://"}, "CELERY_BROKER_URL must be a Redis or AMQP"),
        (
            {"CELERY_BROKER_URL": "redis://r:6379/1;memory://"},
            "CELERY_BROKER_URL must be a Redis or AMQP broker",
        ),
        ({"TRUSTED_PROXIES": "-1"}, "TRUSTED_PROXIES must be a whole number of proxies, 0 or more"),
        (
            {"TRUSTED_PROXIES": "one"},
            "TRUSTED_PROXIES must be a whole number of proxies, 0 or more",
        ),
        (
            {"TRUSTED_PROXIES": "1.5"},
            "TRUSTED_PROXIES must be a whole number of proxies, 0 or more",
        ),
        ({"ALLOWED_HOSTS": ""}, "Set the ALLOWED_HOSTS environment variable."),
        ({"ALLOWED_HOSTS": "*"}, "ALLOWED_HOSTS must name this service's hosts"),
        ({"ALLOWED_HOSTS": " , "}, "ALLOWED_HOSTS must name this service's hosts"),
        ({"PAYMENT_GATEWAYS": "stripe,simulated"}, "set ALLOW_SIMULATED_GATEWAY=true"),
        ({"DATABASE_URL": None}, "Set DATABASE_URL to the PostgreSQL database"),
        ({"DATABASE_URL": "sqlite:///db.sqlite3"}, "Set DATABASE_URL to the PostgreSQL database"),
        ({"REDIS_URL": None}, "Set the REDIS_URL environment variable."),
        ({"CELERY_TASK_ALWAYS_EAGER": "true"}, "unset CELERY_TASK_ALWAYS_EAGER"),
        ({"EMAIL_URL": None}, "Set the EMAIL_URL environment variable."),
        ({"EMAIL_URL": " "}, "Set the EMAIL_URL environment variable."),
        ({"EMAIL_URL": "consolemail://"}, "EMAIL_URL must name an SMTP server"),
        ({"EMAIL_URL": "filemail:///tmp/mail"}, "EMAIL_URL must name an SMTP server"),
        ({"EMAIL_URL": "memorymail://"}, "EMAIL_URL must name an SMTP server"),
        (
            {"PAYMENT_GATEWAYS": "simulated", "ALLOW_SIMULATED_GATEWAY": "false"},
            "set ALLOW_SIMULATED_GATEWAY=true",
        ),
    ],
)
def test_production_refuses_to_start_without_safe_settings(env, message):
    result = load_production(**env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and message in result.stderr


def test_production_shape_fails_closed():
    result = load_production()
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().split("|") == [
        "None",  # X-Forwarded-Proto believed from nobody: TRUSTED_PROXIES is 0
        "['stripe', 'paypal', 'wallet']",  # each offered only once its credentials are set
        "False",
        "False",
        "False",  # /metrics needs the token, loopback included
        "False",  # the schema and Swagger UI for staff only
        "False",  # JWTs are signed with their own key
        "['pay.gamarriando.pe']",
        "True",  # Finance and superusers sign in with a TOTP code
        "django.core.mail.backends.smtp.EmailBackend",  # never the console: e-mails hold PII
    ]


@pytest.mark.parametrize(
    "broker",
    [
        "redis://redis:6379/1",
        "rediss://:pw@redis:6380/1",
        "amqp://guest:guest@rabbit:5672//",
        "amqps://rabbit:5671//",
        "pyamqp://rabbit//",
        "redis://r1:6379/1;redis://r2:6379/1",
    ],
)
def test_production_takes_a_redis_or_amqp_broker(broker):
    result = load_production(CELERY_BROKER_URL=broker)
    assert result.returncode == 0, result.stderr


def test_production_takes_random_keys_like_the_bench_and_the_documented_command():
    # bench/run.py and the README's command: secrets.token_urlsafe, 64 and 67 characters.
    result = load_production(
        SECRET_KEY=secrets.token_urlsafe(48), JWT_SECRET_KEY=secrets.token_urlsafe(50)
    )
    assert result.returncode == 0, result.stderr


def test_production_believes_the_forwarded_proto_only_behind_trusted_proxies():
    result = load_production(TRUSTED_PROXIES="1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("|")[0] == "('HTTP_X_FORWARDED_PROTO', 'https')"


def test_production_runs_the_simulated_gateway_only_when_allowed_and_says_so():
    result = load_production(PAYMENT_GATEWAYS="simulated", ALLOW_SIMULATED_GATEWAY="true")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("|")[1:4] == ["['simulated']", "True", "True"]


def test_production_refuses_an_unknown_paypal_environment():
    result = load_production(PAYPAL_ENVIRONMENT="production")
    assert result.returncode != 0
    assert "PAYPAL_ENVIRONMENT must be 'sandbox' or 'live'." in result.stderr


def test_production_sends_no_email_only_when_told_so():
    result = load_production(EMAIL_URL="dummymail://")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().split("|")[-1] == "django.core.mail.backends.dummy.EmailBackend"


def image_build_step() -> str:
    """The Dockerfile's collectstatic step, its continued lines joined."""
    return next(
        line
        for line in (ROOT / "Dockerfile").read_text().replace("\\\n", " ").splitlines()
        if line.startswith("RUN") and "collectstatic" in line
    )


def test_the_image_build_step_satisfies_the_production_settings():
    # The Dockerfile's collectstatic step loads production with build-only values: each new
    # required setting must be given there too, or `docker compose up --build` fails. The
    # step runs here as the image's shell runs it, with the settings import for collectstatic.
    step = image_build_step()
    command = step.removeprefix("RUN").replace(
        "python manage.py collectstatic --no-input",
        f'"{sys.executable}" -c "import gamarriando.settings.production"',
    )
    assert "collectstatic" not in command
    result = subprocess.run(
        ["sh", "-c", command],
        cwd=ROOT,
        env=bare_environment(DJANGO_SETTINGS_MODULE="gamarriando.settings.production"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    given = set(re.findall(r"\b([A-Z_]+)=", step))
    assert {"SECRET_KEY", "JWT_SECRET_KEY", "ALLOWED_HOSTS", "EMAIL_URL", "DATABASE_URL"} <= given


def test_the_image_build_step_publishes_no_key():
    # A key written in the Dockerfile would be a published one: the build makes its own.
    step = image_build_step()
    for name in ("SECRET_KEY", "JWT_SECRET_KEY"):
        assert re.search(rf"\b{name}=\"\$\(", step), f"{name} is not generated by the step"


SQLITE_WRITERS = """
import threading, time
from django.db import connection, transaction
with connection.cursor() as cursor:
    cursor.execute("CREATE TABLE IF NOT EXISTS t (n integer)")
failures = []
def writer(n):
    try:
        with transaction.atomic():  # read, then write: the shape of every request's transaction
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM t")
                time.sleep(0.3)
                cursor.execute("INSERT INTO t VALUES (%s)", [n])
    except Exception as exc:
        failures.append(repr(exc))
    finally:
        connection.close()
threads = [threading.Thread(target=writer, args=(n,)) for n in range(3)]
[t.start() for t in threads]
[t.join() for t in threads]
print(failures)
"""


def test_the_demo_sqlite_makes_concurrent_writers_wait_instead_of_failing(tmp_path):
    result = run_django(
        "gamarriando.settings.local",
        SQLITE_WRITERS,
        DATABASE_URL=f"sqlite:///{tmp_path / 'demo.sqlite3'}",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_production_serves_the_collected_static_files(tmp_path):
    # The admin's CSS and Swagger UI's bundle, collected as the image does, over WSGI.
    code = (
        "from django.core.management import call_command; "
        "call_command('collectstatic', '--no-input', verbosity=0); "
        "from django.test import Client; "
        "c = Client(HTTP_HOST='pay.gamarriando.pe', HTTP_X_FORWARDED_PROTO='https'); "
        "print([c.get(p, secure=True).status_code for p in ("
        "'/static/admin/css/base.css', "
        "'/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js')])"
    )
    chosen = {k: v for k, v in PRODUCTION.items() if k != "DJANGO_SETTINGS_MODULE"}
    result = run_django(
        "gamarriando.settings.production",
        f"from django.conf import settings; settings.STATIC_ROOT = {str(tmp_path)!r}; {code}",
        **chosen,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[200, 200]"

"""The production shape: PostgreSQL, Redis, a real broker, HTTPS only; it fails closed."""

from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import (
    CELERY_BROKER_URL,
    CELERY_TASK_ALWAYS_EAGER,
    DATABASES,
    EMAIL_BACKEND,
    LOCAL_SECRET_KEY,
    MIDDLEWARE,
    SIMPLE_JWT,
    TRUSTED_PROXIES,
    env,
)

DEBUG = False


def _required(name: str) -> str:
    """Read a setting that has no default here; unset or empty stops the process at start."""
    value = env.str(name, default="").strip()
    if not value:
        raise ImproperlyConfigured(f"Set the {name} environment variable.")
    return value


def _signing_key(name: str) -> str:
    """Read a signing key; a short, repetitive or published one stops the process at start."""
    value = _required(name)
    # Django's own rule for SECRET_KEY (security check W009), which HS256's JWT key meets too:
    # "x" or 32 times "a" would sign sessions, password resets and tokens anyone can forge.
    if len(value) < 50 or len(set(value)) < 5 or value.startswith("django-insecure-"):
        raise ImproperlyConfigured(
            f"{name} must be at least 50 characters long, with at least 5 different characters "
            "and not starting with 'django-insecure-' (Django's check W009); make one with "
            "python -c 'import secrets; print(secrets.token_urlsafe(50))'."
        )
    if value == LOCAL_SECRET_KEY:
        raise ImproperlyConfigured(
            f"{name} is the local default published in gamarriando/settings/base.py."
        )
    return value


# Secrets and hosts have no fallback here: a missing one stops every process at start.
SECRET_KEY = _signing_key("SECRET_KEY")
JWT_SECRET_KEY = _signing_key("JWT_SECRET_KEY")
if JWT_SECRET_KEY == SECRET_KEY:
    raise ImproperlyConfigured("JWT_SECRET_KEY must differ from SECRET_KEY.")
SIMPLE_JWT = {**SIMPLE_JWT, "SIGNING_KEY": JWT_SECRET_KEY}
ALLOWED_HOSTS = [host.strip() for host in _required("ALLOWED_HOSTS").split(",") if host.strip()]
if not ALLOWED_HOSTS or "*" in ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must name this service's hosts (no '*').")

# Row locks, advisory locks and the workers need PostgreSQL and a broker: without them the
# embedded defaults (a SQLite file, tasks run inline in the request, a per-process cache
# that makes every throttle per worker) would serve as if nothing were wrong.
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("Set DATABASE_URL to the PostgreSQL database (postgres://...).")
_required("REDIS_URL")
if CELERY_TASK_ALWAYS_EAGER:
    raise ImproperlyConfigured("Production runs tasks in workers: unset CELERY_TASK_ALWAYS_EAGER.")
# memory:// (or a file system) queues each process's tasks where no worker reads them.
BROKER_SCHEMES = ("redis", "rediss", "amqp", "amqps", "pyamqp")
# kombu takes "url;url" as fail-over brokers: each must be one.
if any(urlsplit(url.strip()).scheme not in BROKER_SCHEMES for url in CELERY_BROKER_URL.split(";")):
    raise ImproperlyConfigured(
        "CELERY_BROKER_URL must be a Redis or AMQP broker (redis://, rediss://, amqp://, "
        "amqps:// or pyamqp://); other transports hold the tasks where no worker reads them."
    )

# Customer e-mails carry names, addresses and amounts: production names the SMTP server they
# go to, or says dummymail:// to send none. The console and file backends would write each one
# into a log or onto the disk, and the in-memory one would drop them unseen.
_required("EMAIL_URL")
if EMAIL_BACKEND not in (
    "django.core.mail.backends.smtp.EmailBackend",
    "django.core.mail.backends.dummy.EmailBackend",
):
    raise ImproperlyConfigured(
        "EMAIL_URL must name an SMTP server (smtp+tls://user:pass@host:587) or be dummymail:// "
        "to send none; the console, file and memory backends would write customer e-mails into "
        "logs or files, or lose them."
    )

# The admin's and the API docs' files, collected into STATIC_ROOT (the image's collectstatic
# step), served by the app itself: nothing else in front of gunicorn serves /static/.
MIDDLEWARE = [
    *MIDDLEWARE[: MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1],
    "whitenoise.middleware.WhiteNoiseMiddleware",
    *MIDDLEWARE[MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1 :],
]

# X-Forwarded-Proto is believed only from proxies we were told about: a client can write it.
if TRUSTED_PROXIES > 0:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^health$", r"^health/live$"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# The simulated gateway takes no money: it runs here only when explicitly allowed.
# Each is offered only once its keys are set; store credit needs none.
PAYMENT_GATEWAYS = env.list("PAYMENT_GATEWAYS", default=["stripe", "paypal", "wallet"])
SIMULATED_GATEWAY_ALLOWED = env.bool("ALLOW_SIMULATED_GATEWAY", default=False)
if "simulated" in PAYMENT_GATEWAYS and not SIMULATED_GATEWAY_ALLOWED:
    raise ImproperlyConfigured(
        "PAYMENT_GATEWAYS enables 'simulated', which marks orders paid with no money taken; "
        "set ALLOW_SIMULATED_GATEWAY=true to run it here anyway (never on a real storefront)."
    )
SIMULATED_GATEWAY_IN_PRODUCTION = "simulated" in PAYMENT_GATEWAYS

# /metrics only with METRICS_TOKEN: a reverse proxy on this host makes every caller loopback.
METRICS_ALLOW_LOOPBACK = False
# The OpenAPI schema and Swagger UI for staff only.
API_DOCS_PUBLIC = False
# Staff who can move money sign in to the admin with a TOTP code (gamarriando.staff_auth).
OTP_REQUIRED_FOR_MONEY_STAFF = True

# Outgoing webhooks: https only, never to this host's loopback (the egress refuses private too).
WEBHOOK_REQUIRE_HTTPS = env.bool("WEBHOOK_REQUIRE_HTTPS", default=True)
WEBHOOK_ALLOW_LOOPBACK_TARGETS = False

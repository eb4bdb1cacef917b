"""Settings shared by every shape; the environment is read here and only here."""

from datetime import timedelta
from pathlib import Path

import environ
from corsheaders.defaults import default_headers as cors_default_headers
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()

# The embedded default is a working local service: nothing has to be set.
DEBUG = env.bool("DEBUG", default=False)
# Published in this repository, so good for local and test only: production refuses it.
LOCAL_SECRET_KEY = "insecure-local-only-secret-key-change-me-in-production-0123456789"
SECRET_KEY = env("SECRET_KEY", default=LOCAL_SECRET_KEY)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    # django.contrib.admin whose admin.site asks money staff for a TOTP code (staff_auth).
    "gamarriando.staff_auth.apps.StaffAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served from our static files, not a CDN
    "corsheaders",
    "django_prometheus",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "gamarriando",
    "gamarriando.users",
    "orders",
    "djstripe",
    "transactions",
    "wallets",
    "payments",
    "notifications",
    "backoffice",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "gamarriando.middleware.RequestIdMiddleware",
    # Before anything that may answer (card guard, common): a refusal must carry CORS headers
    # too, or the storefront cannot read it.
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "gamarriando.middleware.ApiErrorMiddleware",
    "gamarriando.middleware.CardDataGuardMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
    "gamarriando.middleware.AccessLogMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "gamarriando.urls"
WSGI_APPLICATION = "gamarriando.wsgi.application"
AUTH_USER_MODEL = "users.User"
# Axes first: it refuses a locked-out sign-in before the password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
APPEND_SLASH = False  # the API answers both spellings itself; no redirects

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's own psycopg pool; CONN_MAX_AGE must stay 0 with it.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})
    # Parameters bound by the server and statements prepared after a few uses per
    # connection: PostgreSQL parses and plans a hot statement once instead of per call, and
    # psycopg stops quoting values into the SQL text (issue 9: +30 % on the order detail and
    # create). Behind a pooler in transaction mode without prepared-statement support
    # (PgBouncer before 1.22), set DATABASE_PREPARE_THRESHOLD to an empty value.
    if env.bool("DATABASE_SERVER_SIDE_BINDING", default=True):
        DATABASES["default"]["OPTIONS"]["server_side_binding"] = True
        threshold = env("DATABASE_PREPARE_THRESHOLD", default="5")
        DATABASES["default"]["OPTIONS"]["prepare_threshold"] = int(threshold) if threshold else None
    if env.bool("DATABASE_POOL", default=True):
        # Each connection the pool hands out is tested first (one empty round trip): after a
        # PostgreSQL restart or a terminated backend, requests reconnect instead of answering
        # 503 until every dead connection in the pool has been tried once.
        DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
        DATABASES["default"]["OPTIONS"]["pool"] = {
            "min_size": env.int("DATABASE_POOL_MIN", default=2),
            "max_size": env.int("DATABASE_POOL_MAX", default=10),
            "timeout": 10,
        }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The demo's SQLite: a transaction takes the write lock when it begins and a second
    # writer waits up to 20 s for it. With SQLite's default (a reader that upgrades) two
    # requests writing at once deadlock and one fails at once with "database is locked",
    # which the API answered 503.
    DATABASES["default"].setdefault("OPTIONS", {}).update(transaction_mode="IMMEDIATE", timeout=20)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            # Django's RedisCache builds a client object per call, about two thirds of a GET's
            # cost; this one keeps them (gamarriando/cache.py).
            "BACKEND": "gamarriando.cache.ReusedClientRedisCache",
            "LOCATION": REDIS_URL,
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
# The shop's own zone: exports give every date in UTC and in this zone (issue 13).
SHOP_TIME_ZONE = env("SHOP_TIME_ZONE", default="America/Lima")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]

# Abuse limits: throttles answer 429 RATE_LIMITED, business limits 429 LIMIT_EXCEEDED.
# Proxies in front of us that append to X-Forwarded-For; 0 ignores the header (clients write it).
TRUSTED_PROXIES = env.str("TRUSTED_PROXIES", default="0").strip()
if not (TRUSTED_PROXIES.isascii() and TRUSTED_PROXIES.isdigit()):
    # A negative count would make DRF and axes read an entry the client wrote (NUM_PROXIES -1
    # takes the second address from the left): every shape stops at start instead.
    raise ImproperlyConfigured(
        "TRUSTED_PROXIES must be a whole number of proxies, 0 or more (0: none, 1: one "
        "TLS-terminating proxy in front)."
    )
TRUSTED_PROXIES = int(TRUSTED_PROXIES)
ORDER_MAX_LINE_QUANTITY = env.int("ORDER_MAX_LINE_QUANTITY", default=100)  # per product, merged
ORDER_MAX_PENDING_PER_USER = env.int("ORDER_MAX_PENDING_PER_USER", default=5)
PAYMENT_MAX_PROCESS_ATTEMPTS = env.int("PAYMENT_MAX_PROCESS_ATTEMPTS", default=5)  # per payment
PAYMENT_MAX_FAILED_ATTEMPTS_PER_HOUR = env.int("PAYMENT_MAX_FAILED_ATTEMPTS_PER_HOUR", default=10)
if REDIS_URL:
    # A Redis that stops answering fails a throttle within a second instead of holding requests.
    CACHES["default"]["OPTIONS"] = {"socket_connect_timeout": 1, "socket_timeout": 1}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "gamarriando.users.authentication.JWTAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["gamarriando.parsers.DecimalJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "gamarriando.negotiation.JsonOnlyNegotiation",
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "gamarriando.filters.KnownOrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "gamarriando.pagination.NewestFirstCursorPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "gamarriando.errors.api_exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        "orders_create": env("THROTTLE_ORDERS_CREATE", default="60/min"),
        "auth": env("THROTTLE_AUTH", default="30/min"),
        "auth_account": env("THROTTLE_AUTH_ACCOUNT", default="20/hour"),
        "auth_refresh": env("THROTTLE_AUTH_REFRESH", default="60/min"),
        "register": env("THROTTLE_REGISTER", default="10/hour"),
        "payments_create": env("THROTTLE_PAYMENTS_CREATE", default="30/min"),
        "payments_process": env("THROTTLE_PAYMENTS_PROCESS", default="10/min"),
        "payments_refund": env("THROTTLE_PAYMENTS_REFUND", default="10/min"),
        "payments_setup_intent": env("THROTTLE_PAYMENTS_SETUP_INTENT", default="10/min"),
    },
    "NUM_PROXIES": TRUSTED_PROXIES,
    "COERCE_DECIMAL_TO_STRING": True,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=7)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "SIGNING_KEY": env("JWT_SECRET_KEY", default=SECRET_KEY),
    "ALGORITHM": "HS256",
    "AUTH_HEADER_TYPES": ("Bearer",),
    "UPDATE_LAST_LOGIN": False,
}

# Admin sign-in lockout (django-axes): per email and client address, admin only; the API's
# token endpoint has its own throttles (gamarriando.staff_auth.lockout).
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_CALLABLE = "gamarriando.staff_auth.lockout.username"
AXES_WHITELIST_CALLABLE = "gamarriando.staff_auth.lockout.outside_admin"
AXES_LOCKOUT_CALLABLE = "gamarriando.staff_auth.lockout.lockout_response"
# The client address as TRUSTED_PROXIES says (django-ipware): the socket's peer with no proxy;
# behind N proxies the Nth X-Forwarded-For entry from the right (ipware counts the proxies
# listed in the header, which is one fewer than the proxies in front). Not strict, so that
# entries a client adds on the left do not move it.
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR") if TRUSTED_PROXIES else ("REMOTE_ADDR",)
)
AXES_IPWARE_PROXY_ORDER = "left-most"
AXES_IPWARE_PROXY_COUNT = TRUSTED_PROXIES - 1 if TRUSTED_PROXIES else None
IPWARE_STRICT = False

# Two-factor sign-in (django-otp, TOTP): staff who can move money (Finance, superusers) must
# enter a code when this is on (always on in production); anyone who enrolled a device does.
OTP_REQUIRED_FOR_MONEY_STAFF = env.bool("OTP_REQUIRED_FOR_MONEY_STAFF", default=False)
OTP_TOTP_ISSUER = "Gamarriando Payments"
# The admin's device pages never show a secret; each staff member enrolls their own device.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

SPECTACULAR_SETTINGS = {
    "TITLE": "Gamarriando Payments API",
    "DESCRIPTION": "Orders, payments and the transactions ledger of Gamarriando.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "PREPROCESSING_HOOKS": ["gamarriando.schema.canonical_paths"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "gamarriando.schema.add_error_responses",
    ],
    "ENUM_NAME_OVERRIDES": {
        "OrderStatusEnum": "orders.models.OrderStatus.choices",
        "PaymentStatusEnum": "payments.models.PaymentStatus.choices",
        "TransactionStatusEnum": "transactions.models.TransactionStatus.choices",
    },
    # Swagger UI's assets come from drf-spectacular-sidecar's static files.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Staff reach /api/docs/ with their admin session; API_DOCS_PUBLIC says who else may.
    "SERVE_AUTHENTICATION": [
        "rest_framework.authentication.SessionAuthentication",
        "gamarriando.users.authentication.JWTAuthentication",
    ],
    "SERVE_PERMISSIONS": ["gamarriando.api_docs.ApiDocsAccess"],
}
# /api/schema/ and /api/docs/ are open to anyone here; production.py limits them to staff.
API_DOCS_PUBLIC = True

# CORS for a storefront on its own origin: the API only, bearer tokens (no cookies).
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_URLS_REGEX = r"^/api/v1/"
CORS_ALLOW_CREDENTIALS = False
CORS_PREFLIGHT_MAX_AGE = 86400  # browsers cap it lower (Chromium: 2 h)
CORS_ALLOW_HEADERS = [*cors_default_headers, "idempotency-key"]
CORS_EXPOSE_HEADERS = ["X-Request-ID", "Idempotent-Replayed", "Retry-After"]

# Celery: with no broker configured, tasks run inline (the embedded default).
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL or "")
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not CELERY_BROKER_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
# A Redis that hangs (not refuses) must not hold a web worker: every broker read and write
# gives up after 2 s (above kombu's 1 s BRPOP, so an idle worker's poll never times out),
# and a send is retried once, so a request's enqueue fails in about 5 s and is left to the
# outbox sweep or the janitor (gunicorn would kill the worker at 30 s: a 500 and a restart).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_timeout": env.float("BROKER_SOCKET_TIMEOUT_SECONDS", default=2.0),
    "socket_connect_timeout": 1.0,
}
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
CELERY_TIMEZONE = "UTC"

# Domain settings.
ORDER_PAYMENT_TTL_MINUTES = env.int("ORDER_PAYMENT_TTL_MINUTES", default=15)
# "stripe" is offered only when a secret key is configured (payments.gateways.registry).
PAYMENT_GATEWAYS = env.list("PAYMENT_GATEWAYS", default=["simulated", "stripe", "paypal", "wallet"])
SIMULATED_GATEWAY_DECLINE_RATE = env.float("SIMULATED_GATEWAY_DECLINE_RATE", default=0.0)
SIMULATED_GATEWAY_LATENCY_MS = env.int("SIMULATED_GATEWAY_LATENCY_MS", default=0)
# The simulated gateway marks orders paid with no money taken: production.py refuses it unless
# ALLOW_SIMULATED_GATEWAY=true, and then SIMULATED_GATEWAY_IN_PRODUCTION is True (/health says so).
SIMULATED_GATEWAY_ALLOWED = True
SIMULATED_GATEWAY_IN_PRODUCTION = False
RECONCILE_AFTER_SECONDS = env.int("RECONCILE_AFTER_SECONDS", default=60)
# Outbox events committed within this window after the first are dispatched together by one
# task (gamarriando/events.py): the latency an event may gain, for one task per burst.
OUTBOX_BATCH_WINDOW_SECONDS = env.float("OUTBOX_BATCH_WINDOW_SECONDS", default=0.2)
# Store credit (wallets): unsettled holds expire after this; a lost compare-and-swap on a
# wallet is retried this many times before the request answers 409 WALLET_BUSY.
WALLET_HOLD_TTL_MINUTES = env.int("WALLET_HOLD_TTL_MINUTES", default=15)
WALLET_MAX_RETRIES = env.int("WALLET_MAX_RETRIES", default=5)
IDEMPOTENCY_TTL_HOURS = 24
# API bodies above these are refused with 400 before any parsing (gamarriando.parsers).
API_MAX_BODY_BYTES = env.int("API_MAX_BODY_BYTES", default=262_144)
API_MAX_JSON_DEPTH = env.int("API_MAX_JSON_DEPTH", default=32)
# Outgoing webhooks (notifications.egress): production requires https; loopback targets are
# refused unless allowed (tests deliver to a local subscriber). Private, link-local, multicast,
# reserved and metadata addresses are refused always, also after DNS.
WEBHOOK_REQUIRE_HTTPS = env.bool("WEBHOOK_REQUIRE_HTTPS", default=False)
WEBHOOK_ALLOW_LOOPBACK_TARGETS = env.bool("WEBHOOK_ALLOW_LOOPBACK_TARGETS", default=False)

# Stripe (stripe SDK + dj-stripe 2.11); see docs/stripe.md.
STRIPE_LIVE_MODE = env.bool("STRIPE_LIVE_MODE", default=False)
STRIPE_TEST_SECRET_KEY = env("STRIPE_TEST_SECRET_KEY", default="")
STRIPE_LIVE_SECRET_KEY = env("STRIPE_LIVE_SECRET_KEY", default="")
STRIPE_TEST_PUBLIC_KEY = env("STRIPE_TEST_PUBLIC_KEY", default="")
STRIPE_LIVE_PUBLIC_KEY = env("STRIPE_LIVE_PUBLIC_KEY", default="")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", default="")
# Offered to Stripe.js and sent on PaymentIntents; Apple Pay and Google Pay are card wallets.
STRIPE_PAYMENT_METHOD_TYPES = env.list("STRIPE_PAYMENT_METHOD_TYPES", default=["card"])
STRIPE_WALLETS = env.list("STRIPE_WALLETS", default=["apple_pay", "google_pay"])
STRIPE_WEBHOOK_TOLERANCE_SECONDS = 300
STRIPE_API_VERSION = "2026-08-26.dahlia"  # pinned: the version stripe 15.6.2 speaks
STRIPE_TIMEOUT_SECONDS = env.int("STRIPE_TIMEOUT_SECONDS", default=20)
DJSTRIPE_FOREIGN_KEY_TO_FIELD = "id"
DJSTRIPE_USE_NATIVE_JSONFIELD = True

# PayPal Orders v2 over a thin requests client (payments/paypal/); offered only when configured.
PAYPAL_CLIENT_ID = env("PAYPAL_CLIENT_ID", default="")
PAYPAL_CLIENT_SECRET = env("PAYPAL_CLIENT_SECRET", default="")
PAYPAL_ENVIRONMENT = env("PAYPAL_ENVIRONMENT", default="sandbox")  # sandbox | live
PAYPAL_API_BASES = {
    "sandbox": "https://api-m.sandbox.paypal.com",
    "live": "https://api-m.paypal.com",
}
if PAYPAL_ENVIRONMENT not in PAYPAL_API_BASES:
    raise ImproperlyConfigured("PAYPAL_ENVIRONMENT must be 'sandbox' or 'live'.")
PAYPAL_API_BASE = PAYPAL_API_BASES[PAYPAL_ENVIRONMENT]
PAYPAL_WEBHOOK_ID = env("PAYPAL_WEBHOOK_ID", default="")
PAYPAL_RETURN_URL = env("PAYPAL_RETURN_URL", default="")
PAYPAL_CANCEL_URL = env("PAYPAL_CANCEL_URL", default="")
PAYPAL_WEBHOOK_TOLERANCE_SECONDS = 300
PAYPAL_TIMEOUT_SECONDS = env.int("PAYPAL_TIMEOUT_SECONDS", default=20)

# /metrics answers "Authorization: Bearer <METRICS_TOKEN>"; here loopback too, not in production
# (a reverse proxy on the same host makes every caller loopback).
METRICS_TOKEN = env("METRICS_TOKEN", default="")
METRICS_ALLOW_LOOPBACK = True
# The alert checks (gamarriando.alerts) use the thresholds of ops/prometheus/alerts.yml.
ALERT_FAILURE_RATE = 0.05
ALERT_STUCK_PROCESSING_SECONDS = 30
ALERT_OUTBOX_LAG_SECONDS = 120
# "Unusual activity": the last hour against the trailing week's same hour (payments/unusual_activity.py).
ALERT_UNUSUAL_FACTOR = 3
ALERT_UNUSUAL_MIN_COUNT = 10

# E-mail: the console by default; SMTP with EMAIL_URL=smtp+tls://user:pass@host:587. An
# empty value counts as unset, so production's check can name what is missing.
vars().update(
    environ.Env.email_url_config(env.str("EMAIL_URL", default="").strip() or "consolemail://")
)
# Seconds an SMTP call may hang: a batch's e-mails share one connection and one worker slot.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Gamarriando <pagos@gamarriando.pe>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
ADMINS = [("Admins", email) for email in env.list("ADMIN_EMAILS", default=[])]

LOG_LEVEL = env("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "gamarriando.logging.json_formatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "celery": {"level": "WARNING"},
        # runserver's request lines: through the JSON formatter, which drops their query string.
        "django.server": {"level": "WARNING", "handlers": ["console"], "propagate": False},
        "django.request": {"level": "ERROR"},
    },
}

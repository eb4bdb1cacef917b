"""Test settings: the same code paths, with fast hashing and inline Celery."""

from .base import *  # noqa: F403
from .base import CACHES, DATABASES, REST_FRAMEWORK, env

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# The real-worker test starts a worker process with CELERY_TEST_BROKER_URL set.
CELERY_BROKER_URL = env("CELERY_TEST_BROKER_URL", default="memory://")
CELERY_TASK_ALWAYS_EAGER = CELERY_BROKER_URL == "memory://"
# Tests open one connection per thread; a pool would hide leaked connections. A worker
# process a test starts may ask for production's pool (the connection-reuse test does).
if not env.bool("TEST_DATABASE_POOL", default=False):
    DATABASES["default"].get("OPTIONS", {}).pop("pool", None)
# Parallel test processes share one Redis: each keeps its own cache keys (the outbox's kick,
# the throttles); a worker process a test starts inherits the variable, so it shares them.
CACHES["default"]["KEY_PREFIX"] = env("PYTEST_XDIST_WORKER", default="")
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_RATES": {
        scope: "1000/min" for scope in REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    },
}
# Suites place many orders and declines per user; the limit tests set their own values.
ORDER_MAX_PENDING_PER_USER = 1000
PAYMENT_MAX_FAILED_ATTEMPTS_PER_HOUR = 1000
RECONCILE_AFTER_SECONDS = 0
# The webhook tests deliver to a subscriber on 127.0.0.1; the refusal tests turn this off.
WEBHOOK_ALLOW_LOOPBACK_TARGETS = True

# A well-formed fake key; tests point stripe.api_base at the fake server they start.
STRIPE_TEST_SECRET_KEY = "sk_test_" + "F" * 24
STRIPE_WEBHOOK_SECRET = "whsec_test_secret"
SILENCED_SYSTEM_CHECKS = ["djstripe.W002"]

# Two-factor sign-in stays off whatever the shell says; its tests turn it on.
OTP_REQUIRED_FOR_MONEY_STAFF = False

"""The Celery app, its queues and the beat schedule."""

import os
import sys
import threading
import time

import structlog
from celery import Celery
from celery.schedules import crontab
from celery.signals import (
    setup_logging,
    task_postrun,
    task_prerun,
    worker_init,
    worker_process_shutdown,
)
from django.db import close_old_connections, connection, connections
from kombu import Queue
from prometheus_client import multiprocess

from gamarriando.logging import get_logger

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gamarriando.settings.production")

logger = get_logger("gamarriando.task")

app = Celery("gamarriando", task_cls="gamarriando.dead_letters:DeadLetterTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Outgoing webhook POSTs have their own queue: a subscriber that hangs holds only the workers
# that serve it, never a charge's or the outbox's (docker-compose gives it its own worker).
app.conf.task_queues = [
    Queue("default"),
    Queue("payments"),
    Queue("events"),
    Queue("maintenance"),
    Queue("webhooks"),
]
app.conf.task_routes = {
    "payments.*": {"queue": "payments"},
    "gamarriando.dispatch_event": {"queue": "events"},
    "gamarriando.dispatch_pending": {"queue": "events"},
    "gamarriando.sweep_outbox": {"queue": "events"},
    "notifications.deliver_webhook": {"queue": "webhooks"},
    "notifications.retry_due_deliveries": {"queue": "webhooks"},
    "notifications.*": {"queue": "events"},
    "orders.expire_unpaid_orders": {"queue": "maintenance"},
    "gamarriando.purge_idempotency_keys": {"queue": "maintenance"},
}
app.conf.beat_schedule = {
    "expire-unpaid-orders": {"task": "orders.expire_unpaid_orders", "schedule": 60.0},
    "reconcile-payments": {"task": "payments.reconcile_pending", "schedule": 60.0},
    "expire-wallet-holds": {"task": "payments.expire_wallet_holds", "schedule": 60.0},
    "sweep-outbox": {"task": "gamarriando.sweep_outbox", "schedule": 30.0},
    "check-alerts": {"task": "gamarriando.check_alerts", "schedule": 300.0},
    "remind-dispute-deadlines": {"task": "payments.remind_dispute_deadlines", "schedule": 3600.0},
    "retry-webhook-deliveries": {"task": "notifications.retry_due_deliveries", "schedule": 60.0},
    "purge-idempotency-keys": {
        "task": "gamarriando.purge_idempotency_keys",
        "schedule": crontab(minute=17),
    },
}
# Celery's Django fixup closes every database connection before and after each task and,
# in a prefork child, Django's connection pool with it: every task then opened a new pool of
# new PostgreSQL backends (a server fork each), which cost more than the task (issue 9). A
# worker treats a task like Django treats a request instead: the fixup's closing is off and
# _release_connections hands the connection back to the pool, dropping it only when broken.
app.conf.CELERY_DB_REUSE_MAX = sys.maxsize
app.autodiscover_tasks()


@setup_logging.connect
def _keep_djangos_logging(**_):
    """Keep the logging Django set up from LOGGING (one JSON line per event, redacted).

    Connected, this signal stops Celery from replacing the root logger's handlers with its
    own text format, which printed each event as a Python dict and skipped the redaction.
    """


@task_prerun.connect
def _bind_task_context(task_id=None, task=None, kwargs=None, **_):
    """Bind the task and the ids it works on to every log line it writes."""
    # An inline task runs inside its caller (a request, another task): its caller's context is
    # put back afterwards, or the request's later lines would lose their request_id.
    caller = structlog.contextvars.get_contextvars() if task.request.is_eager else None
    structlog.contextvars.clear_contextvars()
    ids = {k: v for k, v in (kwargs or {}).items() if k.endswith("_id")}
    structlog.contextvars.bind_contextvars(task=task.name, task_id=task_id, **ids)
    _started[task_id] = (time.perf_counter(), ids, caller)


@task_postrun.connect
def _log_task(task_id=None, task=None, state=None, **_):
    """Write one line per task run with its outcome and duration."""
    started, ids, caller = _started.pop(task_id, (None, {}, None))
    duration_ms = round((time.perf_counter() - started) * 1000, 2) if started else None
    # Inline tasks nest, so the ids are passed explicitly rather than read from the context.
    fields = {
        **ids,
        "task": task.name,
        "task_id": task_id,
        "state": state,
        "duration_ms": duration_ms,
    }
    logger.info("task", **fields)
    if caller is not None:
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(**caller)


_started: dict = {}


@task_prerun.connect
@task_postrun.connect
def _release_connections(task=None, **_):
    """Return the database connection to the pool around a task, as Django does per request."""
    if getattr(task.request, "is_eager", False):
        return  # an inline task runs inside its caller, often inside its transaction
    if connection.in_atomic_block:
        # Only a task that left its transaction open gets here; say so, keep the process going.
        logger.error("task_left_transaction_open", task=task.name)
        return
    close_old_connections()


@worker_init.connect
def _close_parent_connections(**_):
    """Close what the worker's start-up checks opened, before the pool forks its children.

    Celery's fix-up did this at start (its closing is off, above); runs after its own handler.
    """
    for conn in connections.all(initialized_only=True):
        conn.close()
        if conn.vendor == "postgresql":
            conn.close_pool()


@worker_process_shutdown.connect
def _drop_live_gauges(pid=None, **_):
    """With a metrics directory shared with the web (compose), a child's gauges leave with it."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(pid or os.getpid())


_task_lookup = threading.Lock()


def registered_task(name: str):
    """Return a task by name, importing the apps' tasks modules the first time one is asked for.

    Workers import every tasks module at start; a web process does so on first use, under a
    lock, because two threads importing at once may see a half-registered app (NotRegistered).
    """
    with _task_lookup:
        if name not in app.tasks:
            # The apps' tasks modules only: the loader's import_default_modules would also run
            # the worker's Django system checks (dj-stripe's query the database) in a request.
            app.autodiscover_tasks(force=True)
        return app.tasks[name]

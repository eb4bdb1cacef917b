"""The Celery app, its queues and the beat schedule."""

import os

from celery import Celery
from celery.schedules import crontab
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gamarriando.settings.local")

app = Celery("gamarriando", task_cls="gamarriando.dead_letters:DeadLetterTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = [Queue("default"), Queue("payments"), Queue("events"), Queue("maintenance")]
app.conf.task_routes = {
    "payments.*": {"queue": "payments"},
    "gamarriando.dispatch_event": {"queue": "events"},
    "gamarriando.sweep_outbox": {"queue": "events"},
    "notifications.*": {"queue": "events"},
    "orders.expire_unpaid_orders": {"queue": "maintenance"},
    "gamarriando.purge_idempotency_keys": {"queue": "maintenance"},
}
app.conf.beat_schedule = {
    "expire-unpaid-orders": {"task": "orders.expire_unpaid_orders", "schedule": 60.0},
    "reconcile-payments": {"task": "payments.reconcile_pending", "schedule": 60.0},
    "sweep-outbox": {"task": "gamarriando.sweep_outbox", "schedule": 30.0},
    "retry-webhook-deliveries": {"task": "notifications.retry_due_deliveries", "schedule": 60.0},
    "purge-idempotency-keys": {
        "task": "gamarriando.purge_idempotency_keys",
        "schedule": crontab(minute=17),
    },
}
app.autodiscover_tasks()

"""Enqueue Celery work only once the surrounding transaction has committed."""

import uuid

from celery.utils.time import get_exponential_backoff_interval
from django.db import transaction
from prometheus_client import Counter

from gamarriando.celery import app as celery_app
from gamarriando.celery import registered_task
from gamarriando.dead_letters import record_dead_letter
from gamarriando.logging import get_logger

logger = get_logger(__name__)
TASK_RETRIES = Counter("gamarriando_task_retries_total", "Celery task retries", ["task"])


def _send(task, kwargs: dict, countdown: float | None = None) -> bool:
    try:
        task.apply_async(kwargs=kwargs, countdown=countdown)
        return True
    except Exception as exc:
        if task.app.conf.task_always_eager:
            # Inline mode has no worker to record the failure, so the sender does.
            record_dead_letter(
                task_name=task.name,
                task_id=f"inline-{uuid.uuid4().hex}",
                kwargs=kwargs,
                exc=exc,
                attempts=1,
            )
            raise
        # The broker is away. The state is committed, so the outbox sweep or the janitor sends
        # this again (README, "When the broker loses a message"): one warning, no traceback.
        ids = {key: value for key, value in kwargs.items() if key.endswith("_id")}
        logger.warning(
            "enqueue_failed",
            task=task.name,
            error_type=type(exc).__name__,
            error=str(exc)[:200],
            **ids,
        )
        return False


def enqueue_on_commit(task, **kwargs) -> None:
    """Send a task (or a task name) after commit; a failure to enqueue is a warning, never raised.

    Services name their tasks (``"payments.execute_transaction"``) so that they need not import
    the tasks module, which imports them.
    """
    if isinstance(task, str):
        task = registered_task(task)
    transaction.on_commit(lambda: _send(task, kwargs), robust=True)


def runs_inline() -> bool:
    """Say whether tasks run in the sending process on commit (no broker), not in a worker."""
    return celery_app.conf.task_always_eager


def send_now(task, *, countdown: float | None = None, **kwargs) -> bool:
    """Send a task now (to start `countdown` s later); a failure to enqueue is a warning, False."""
    return _send(registered_task(task) if isinstance(task, str) else task, kwargs, countdown)


def retry_later(task, exc: Exception, **kwargs):
    """Retry a bound task with exponential backoff and full jitter.

    Inline (eager) mode has no broker to hold a delayed retry, so the task runs again at once.
    """
    retries = task.request.retries
    TASK_RETRIES.labels(task.name).inc()
    if task.request.is_eager:
        return task.apply(kwargs=kwargs, retries=retries + 1, throw=True)
    countdown = get_exponential_backoff_interval(
        factor=2, retries=retries, maximum=300, full_jitter=True
    )
    logger.info(
        "task_retry", task=task.name, retries=retries, countdown=countdown, error=str(exc)[:200]
    )
    raise task.retry(exc=exc, countdown=countdown, kwargs=kwargs)

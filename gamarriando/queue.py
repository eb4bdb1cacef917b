"""Enqueue Celery work only once the surrounding transaction has committed."""

from django.db import transaction

from gamarriando.logging import get_logger

logger = get_logger(__name__)


def enqueue_on_commit(task, **kwargs) -> None:
    """Send a task after commit; a failure to enqueue is logged, never raised into the request."""
    transaction.on_commit(lambda: task.apply_async(kwargs=kwargs), robust=True)

"""Dead letters: every task that fails for good leaves a row staff can retry or discard."""

import traceback
from enum import StrEnum

from celery import Task
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from kombu.exceptions import OperationalError as KombuOperationalError
from redis.exceptions import RedisError

from gamarriando.celery import registered_task
from gamarriando.errors import PermissionDeniedError, ServiceUnavailable
from gamarriando.logging import get_logger

logger = get_logger(__name__)


class OperationsPermission(StrEnum):
    # Declared on DeadLetter's Meta: operations work has no model of its own.
    RUN = "gamarriando.run_operations"


def require_operations_permission(actor) -> None:
    """Let only staff who run operations (reprocess, retry, redeliver) go on.

    Raises:
        PermissionDeniedError: the actor lacks gamarriando.run_operations.
    """
    if not actor.has_perm(OperationsPermission.RUN):
        raise PermissionDeniedError("Your role may not run operations work.")


class DeadLetterStatus(models.TextChoices):
    OPEN = "open"
    RETRIED = "retried"
    DISCARDED = "discarded"


class DeadLetter(models.Model):
    """A task that ran out of retries: what it was, how it failed, and what staff did."""

    task_id = models.CharField(max_length=255, unique=True)
    task_name = models.CharField(max_length=255, db_index=True)
    kwargs = models.JSONField(encoder=DjangoJSONEncoder, default=dict)
    error = models.TextField()
    attempts = models.PositiveIntegerField(default=1)
    status = models.CharField(
        max_length=16,
        choices=DeadLetterStatus.choices,
        default=DeadLetterStatus.OPEN,
        db_index=True,
    )
    first_failed_at = models.DateTimeField(default=timezone.now)
    last_failed_at = models.DateTimeField(default=timezone.now, db_index=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        permissions = [
            ("run_operations", "Can reprocess events, retry dead letters and redeliver webhooks")
        ]

    def __str__(self):
        return f"{self.task_name} {self.task_id}"


def record_dead_letter(
    *, task_name: str, task_id: str, kwargs: dict, exc: BaseException, attempts: int
) -> None:
    """Write (or refresh) the dead letter of a task that failed for good."""
    try:
        error = "".join(traceback.format_exception_only(type(exc), exc)).strip()[:4000]
        letter, created = DeadLetter.objects.get_or_create(
            task_id=task_id,
            defaults={
                "task_name": task_name,
                "kwargs": kwargs or {},
                "error": error,
                "attempts": attempts,
            },
        )
        if not created:
            DeadLetter.objects.filter(pk=letter.pk).update(
                error=error,
                attempts=attempts,
                last_failed_at=timezone.now(),
                status=DeadLetterStatus.OPEN,
            )
        logger.error("task_dead_lettered", task=task_name, task_id=task_id, error=error)
    except Exception:  # the dead-letter write must never hide the original failure
        logger.exception("dead_letter_write_failed", task=task_name, task_id=task_id)


class DeadLetterTask(Task):
    """Base class of every task: a final failure in a worker is written down, never lost."""

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        record_dead_letter(
            task_name=self.name,
            task_id=task_id,
            kwargs=kwargs,
            exc=exc,
            attempts=self.request.retries + 1,
        )
        super().on_failure(exc, task_id, args, kwargs, einfo)


def dead_letter_retry(letter: DeadLetter, *, actor) -> None:
    """Run a dead letter's task again with its arguments, as a new task.

    Raises:
        PermissionDeniedError: the actor may not run operations work.
        ServiceUnavailable: the broker cannot be reached (the letter stays open).
    """
    require_operations_permission(actor)
    task = registered_task(letter.task_name)
    try:
        task.apply_async(kwargs=letter.kwargs)
    except (KombuOperationalError, RedisError, OSError) as exc:
        # The broker is away: the letter stays open, to be retried once it is back.
        raise ServiceUnavailable("The task queue cannot be reached; try again shortly.") from exc
    DeadLetter.objects.filter(pk=letter.pk).update(
        status=DeadLetterStatus.RETRIED, resolved_at=timezone.now()
    )


def dead_letter_discard(letter: DeadLetter, *, actor) -> None:
    """Mark a dead letter as looked at and dropped on purpose.

    Raises:
        PermissionDeniedError: the actor may not run operations work.
    """
    require_operations_permission(actor)
    DeadLetter.objects.filter(pk=letter.pk).update(
        status=DeadLetterStatus.DISCARDED, resolved_at=timezone.now()
    )

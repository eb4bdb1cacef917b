"""The audit row every state machine writes on each move: who, when, from, to, why."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class StatusHistory(models.Model):
    """Abstract base: subclasses add the foreign key to what changed."""

    from_status = models.CharField(max_length=24, blank=True)
    to_status = models.CharField(max_length=24)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        abstract = True

    def __str__(self):
        return f"{self.from_status or '-'} -> {self.to_status}"

"""The back office's own record: one-time nonces of its forms."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class FormNonce(models.Model):
    """A staff form's nonce, claimed by the one operation that form submitted."""

    nonce = models.UUIDField(primary_key=True)
    operation = models.CharField(max_length=32)
    object_id = models.BigIntegerField()
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    claimed_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self):
        return f"{self.operation} {self.object_id} ({self.nonce})"

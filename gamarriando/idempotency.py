"""The Idempotency-Key layer every POST under /api/v1 goes through, and its model."""

import hashlib
import json
from datetime import timedelta
from functools import wraps

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.utils import timezone
from rest_framework.response import Response

from gamarriando.errors import IdempotencyKeyInUse, IdempotencyKeyReused, field_error
from gamarriando.finance_metrics import DUPLICATE_ATTEMPTS

REPLAY_HEADER = "Idempotent-Replayed"


class IdempotencyKey(models.Model):
    """A stored 2xx answer to a keyed POST, replayed for 24 hours."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=512)
    request_hash = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField()
    response_body = models.JSONField(encoder=DjangoJSONEncoder, null=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_unique_per_user")
        ]

    def __str__(self):
        return f"{self.key} ({self.method} {self.path})"


def _fingerprint(request) -> tuple[str, str]:
    path = request.path.rstrip("/") or "/"
    canonical = json.dumps(
        {"method": request.method, "path": path, "body": request.data},
        sort_keys=True,
        cls=DjangoJSONEncoder,
    )
    return path, hashlib.sha256(canonical.encode()).hexdigest()


def _try_lock(user_id: int, key: str) -> bool:
    """Take a transaction-scoped lock on (user, key); SQLite serializes writers itself."""
    if connection.vendor != "postgresql":
        return True
    digest = hashlib.blake2b(f"{user_id}:{key}".encode(), digest_size=8).digest()
    lock_id = int.from_bytes(digest, "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [lock_id])
        return cursor.fetchone()[0]


def _valid_key(raw: str) -> bool:
    return 1 <= len(raw) <= 255 and all(32 <= ord(ch) < 127 for ch in raw)


def idempotent(view_method):
    """Make a DRF POST handler replay its stored 2xx answer for a repeated Idempotency-Key.

    The handler runs in the same transaction that stores the answer, so a crash at
    any moment either leaves both or neither: a retry never repeats the effect.
    Side effects scheduled with on_commit (gateway calls) run after that commit.
    """

    @wraps(view_method)
    def wrapper(self, request, *args, **kwargs):
        raw_key = request.headers.get("Idempotency-Key")
        if raw_key is None or not request.user.is_authenticated:
            return view_method(self, request, *args, **kwargs)
        if not _valid_key(raw_key):
            raise field_error("Idempotency-Key", "Must be 1-255 printable ASCII characters.")
        path, request_hash = _fingerprint(request)
        cutoff = timezone.now() - timedelta(hours=settings.IDEMPOTENCY_TTL_HOURS)
        with transaction.atomic():
            if not _try_lock(request.user.pk, raw_key):
                raise IdempotencyKeyInUse()
            stored = IdempotencyKey.objects.filter(user=request.user, key=raw_key).first()
            if stored is not None and stored.created_at < cutoff:
                stored.delete()
                stored = None
            if stored is not None:
                if stored.request_hash != request_hash:
                    raise IdempotencyKeyReused()
                DUPLICATE_ATTEMPTS.labels("idempotent_replay").inc()
                return Response(
                    stored.response_body,
                    status=stored.response_status,
                    headers={REPLAY_HEADER: "true"},
                )
            response = view_method(self, request, *args, **kwargs)
            if not 200 <= response.status_code < 300:
                return response
            stored = IdempotencyKey.objects.create(
                user=request.user,
                key=raw_key,
                method=request.method,
                path=path,
                request_hash=request_hash,
                response_status=response.status_code,
                response_body=response.data,
            )
        # Inline work ran on commit; show its outcome and keep that as the stored answer.
        rerender = getattr(response, "rerender", None)
        if rerender is not None:
            response = rerender()
            IdempotencyKey.objects.filter(pk=stored.pk).update(response_body=response.data)
        return response

    return wrapper

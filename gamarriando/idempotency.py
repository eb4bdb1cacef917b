"""The Idempotency-Key layer every POST under /api/v1 goes through, and its model."""

import hashlib
import json
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import timedelta
from functools import wraps

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone
from rest_framework.response import Response

from gamarriando.errors import IdempotencyKeyInUse, IdempotencyKeyReused, field_error
from gamarriando.finance_metrics import DUPLICATE_ATTEMPTS
from gamarriando.insert_sql import insert_rows
from gamarriando.queue import runs_inline

REPLAY_HEADER = "Idempotent-Replayed"
_owning: ContextVar[bool] = ContextVar("idempotency_owns_transaction", default=False)


class IdempotencyKey(models.Model):
    """A stored 2xx answer to a keyed POST, replayed for 24 hours."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=512)
    request_hash = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField()
    # JSON text, not jsonb: PostgreSQL's jsonb orders an object's keys its own way, and a
    # replay answers the first answer's bytes, keys in the order they were written.
    response_body = models.TextField(null=True)
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


def advisory_lock_id(user_id: int, key: str) -> int:
    """Return the PostgreSQL advisory lock id that guards one (user, key)."""
    digest = hashlib.blake2b(f"{user_id}:{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def owns_transaction() -> bool:
    """Say whether the running code is inside a keyed request's transaction.

    Any error there fails the whole request and rolls everything back, so a service nested
    in it gains nothing from a savepoint of its own (two round trips).
    """
    return _owning.get()


def _lock_and_find(user, key: str) -> tuple[bool, "IdempotencyKey | None"]:
    """Take a transaction-scoped lock on (user, key) and find its stored answer.

    On PostgreSQL both happen in one statement (one round trip on every keyed POST). The
    lookup's snapshot may predate a first request that commits just as the lock is taken;
    the second request then runs, and its answer collides with the unique (user, key)
    constraint and is rolled back, so the effect still happens once. SQLite serializes
    writers itself and needs no lock.
    """
    if connection.vendor != "postgresql":
        return True, IdempotencyKey.objects.filter(user=user, key=key).first()
    lock_id = advisory_lock_id(user.pk, key)
    table = connection.ops.quote_name(IdempotencyKey._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT pg_try_advisory_xact_lock(%s), "  # noqa: S608 - the table name is ours
            f"(SELECT id FROM {table} WHERE user_id = %s AND key = %s)",
            [lock_id, user.pk, key],
        )
        locked, stored_id = cursor.fetchone()
    if not locked or stored_id is None:
        return locked, None
    return locked, IdempotencyKey.objects.filter(pk=stored_id).first()


def _valid_key(raw: str) -> bool:
    return 1 <= len(raw) <= 255 and all(32 <= ord(ch) < 127 for ch in raw)


def _keyed(request) -> tuple[str, str, str] | None:
    """Return the request's checked Idempotency-Key, path and fingerprint; None when unkeyed.

    Unkeyed: no key, or nobody to scope it to.
    """
    raw_key = request.headers.get("Idempotency-Key")
    if raw_key is None or not request.user.is_authenticated:
        return None
    if not _valid_key(raw_key):
        raise field_error("Idempotency-Key", "Must be 1-255 printable ASCII characters.")
    return (raw_key, *_fingerprint(request))


def _fresh(stored: "IdempotencyKey | None") -> "IdempotencyKey | None":
    """Drop a stored answer older than the replay window; return what is still replayable."""
    cutoff = timezone.now() - timedelta(hours=settings.IDEMPOTENCY_TTL_HOURS)
    if stored is not None and stored.created_at < cutoff:
        stored.delete()
        return None
    return stored


def _replay(stored: IdempotencyKey, request_hash: str) -> Response:
    """Answer a repeated key with its stored answer, or refuse it for a different request."""
    if stored.request_hash != request_hash:
        raise IdempotencyKeyReused()
    DUPLICATE_ATTEMPTS.labels("idempotent_replay").inc()
    return Response(
        json.loads(stored.response_body),
        status=stored.response_status,
        headers={REPLAY_HEADER: "true"},
    )


def _as_text(data) -> str:
    return json.dumps(data, cls=DjangoJSONEncoder)


def _store(request, raw_key: str, path: str, request_hash: str, response) -> IdempotencyKey:
    """Store a 2xx answer under its key; a key stored meanwhile by another request is IN_USE."""
    stored = IdempotencyKey(
        user=request.user,
        key=raw_key,
        method=request.method,
        path=path,
        request_hash=request_hash,
        response_status=response.status_code,
        response_body=_as_text(response.data),
    )
    try:
        insert_rows([stored])  # a third of the ORM's create() (docs/benchmarks.md)
    except IntegrityError as exc:
        # The key's first request committed while this one ran (see _lock_and_find): roll
        # this one back; a retry replays the first answer.
        raise IdempotencyKeyInUse() from exc
    return stored


def idempotent(view_method):
    """Make a DRF POST handler replay its stored 2xx answer for a repeated Idempotency-Key.

    The handler runs in the same transaction that stores the answer, so a crash at
    any moment either leaves both or neither: a retry never repeats the effect.
    Side effects scheduled with on_commit (gateway calls) run after that commit.
    """

    @wraps(view_method)
    def wrapper(self, request, *args, **kwargs):
        keyed = _keyed(request)
        if keyed is None:
            return view_method(self, request, *args, **kwargs)
        raw_key, path, request_hash = keyed
        with transaction.atomic():
            locked, stored = _lock_and_find(request.user, raw_key)
            if not locked:
                raise IdempotencyKeyInUse()
            stored = _fresh(stored)
            if stored is not None:
                return _replay(stored, request_hash)
            token = _owning.set(True)
            try:
                response = view_method(self, request, *args, **kwargs)
            finally:
                _owning.reset(token)
            if not 200 <= response.status_code < 300:
                return response
            stored = _store(request, raw_key, path, request_hash, response)
        # Inline work ran on commit; show its outcome and keep that as the stored answer. With a
        # broker the work is queued, and what was rendered before commit is the answer.
        rerender = getattr(response, "rerender", None)
        if rerender is not None and runs_inline():
            response = rerender()
            IdempotencyKey.objects.filter(pk=stored.pk).update(
                response_body=_as_text(response.data)
            )
        return response

    return wrapper


@contextmanager
def _held_while_running(user, key: str):
    """Hold (user, key) for a request that runs outside a transaction; yield whether it is ours.

    A session-level advisory lock on PostgreSQL, released however the handler ends (a process
    that dies closes its connection, which releases it too). SQLite serves one writer at a time.
    """
    if connection.vendor != "postgresql":
        yield True
        return
    lock_id = advisory_lock_id(user.pk, key)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [lock_id])
        locked = cursor.fetchone()[0]
    try:
        yield locked
    finally:
        if locked:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [lock_id])


def idempotent_gateway_call(view_method):
    """The Idempotency-Key layer for a handler that calls a gateway, so never in a transaction.

    The same answers as `idempotent` (replay, 422 for another request, 409 while the first
    runs), but the handler runs with the key held rather than inside the transaction that
    stores its answer. A crash between the gateway's answer and the store leaves the key
    unused; the handler must pass a key derived from the client's on to the gateway, whose
    own replay then gives the retry the first effect's answer, never a second effect.
    """

    @wraps(view_method)
    def wrapper(self, request, *args, **kwargs):
        keyed = _keyed(request)
        if keyed is None:
            return view_method(self, request, *args, **kwargs)
        raw_key, path, request_hash = keyed
        with _held_while_running(request.user, raw_key) as locked:
            if not locked:
                raise IdempotencyKeyInUse()
            stored = _fresh(IdempotencyKey.objects.filter(user=request.user, key=raw_key).first())
            if stored is not None:
                return _replay(stored, request_hash)
            response = view_method(self, request, *args, **kwargs)
            if 200 <= response.status_code < 300:
                _store(request, raw_key, path, request_hash, response)
        return response

    return wrapper

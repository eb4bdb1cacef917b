"""One-time nonces of the staff forms: a double submission runs its operation once."""

import uuid
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from backoffice.models import FormNonce

# A form older than this may be sent again; no clerk keeps a money form open for a day.
NONCE_LIFETIME = timedelta(days=1)


class FormAlreadySubmitted(Exception):
    """The form's nonce was claimed before."""


def nonce_claim(*, nonce: uuid.UUID, operation: str, object_id: int, user) -> None:
    """Claim a form's nonce in the caller's transaction, so a rollback frees it again.

    Raises:
        FormAlreadySubmitted: the nonce was claimed before.
    """
    FormNonce.objects.filter(claimed_at__lt=timezone.now() - NONCE_LIFETIME).delete()
    try:
        # A savepoint, so the caller's transaction survives the duplicate key. On PostgreSQL a
        # concurrent second claim waits here for the first to commit, then fails.
        with transaction.atomic():
            FormNonce.objects.create(
                nonce=nonce, operation=operation, object_id=object_id, user=user
            )
    except IntegrityError as exc:
        raise FormAlreadySubmitted from exc

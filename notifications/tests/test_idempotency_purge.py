"""Stored idempotency answers are purged after 24 hours."""

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


def test_stored_idempotency_answers_are_purged_after_24_hours(api, customer, product, address):
    from datetime import timedelta

    from django.utils import timezone

    from gamarriando.idempotency import IdempotencyKey
    from gamarriando.tasks import purge_idempotency_keys

    body = {"items": [{"product_id": product.pk, "quantity": 1}], "shipping_address": address}
    for key in ("old", "new"):
        api(customer).post("/api/v1/orders", body, format="json", HTTP_IDEMPOTENCY_KEY=key)
    IdempotencyKey.objects.filter(key="old").update(created_at=timezone.now() - timedelta(hours=25))
    assert purge_idempotency_keys() == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]

"""Webhook signing secrets: shown once, rotated with a 24-hour overlap, by whom."""

import json
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from gamarriando.errors import PermissionDeniedError
from notifications.models import WebhookSubscription
from notifications.services import subscription_rotate_secret
from notifications.signing import signature_header, verify
from notifications.tests.factories import WebhookSubscriptionFactory
from notifications.tests.helpers import SUBSCRIPTIONS, db_with_commits
from orders.tests.factories import ProductFactory
from tests.helpers import make_order


def test_verify_accepts_any_v1_that_matches():
    body, now = b'{"id": "1"}', int(time.time())
    header = signature_header(body, ["whsec_new", "whsec_old"], timestamp=now)
    assert header.count("v1=") == 2 and header.startswith(f"t={now},v1=")
    assert verify(body, header, "whsec_new") and verify(body, header, "whsec_old")
    assert not verify(body, header, "whsec_other")
    assert not verify(b'{"id": "2"}', header, "whsec_old")
    assert not verify(body, signature_header(body, "whsec_old", timestamp=now - 301), "whsec_old")
    assert not verify(body, header.replace(f"t={now},", ""), "whsec_old")
    assert not verify(body, f"t={now},{header}", "whsec_old")  # two timestamps: refused


@pytest.mark.django_db
def test_the_secret_is_shown_once_at_creation_and_masked_afterwards(
    client, superuser, finance, support
):
    client.force_login(superuser)
    posted = client.post(
        f"{SUBSCRIPTIONS}add/",
        {"url": "https://hooks.example.com/in", "event_types": "[]", "is_active": "on"},
    )
    subscription = WebhookSubscription.objects.get()
    # Post, redirect, get: reloading the page posts nothing again (no second subscription).
    assert posted.status_code == 302 and subscription.secret not in posted.content.decode()
    response = client.get(posted["Location"])
    assert response.status_code == 200 and subscription.secret in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    reloaded = client.get(posted["Location"], follow=True)
    assert subscription.secret not in reloaded.content.decode()
    assert "shown once only" in reloaded.content.decode()
    assert WebhookSubscription.objects.count() == 1
    for user in (superuser, finance, support):
        client.force_login(user)
        page = client.get(f"{SUBSCRIPTIONS}{subscription.pk}/change/")
        html = page.content.decode()
        assert page.status_code == 200
        assert subscription.secret not in html and subscription.secret[6:-4] not in html
        assert subscription.secret[-4:] in html  # the masked form: kind and last four


@db_with_commits
def test_rotation_signs_with_both_secrets_for_24_hours(endpoint, customer, client, superuser):
    subscription = WebhookSubscriptionFactory(url=endpoint.url)
    old_secret = subscription.secret
    client.force_login(superuser)
    response = client.post(
        SUBSCRIPTIONS,
        {"action": "rotate_secret", "_selected_action": [subscription.pk]},
        follow=True,
    )
    subscription.refresh_from_db()
    new_secret = subscription.secret
    assert new_secret != old_secret and subscription.previous_secret == old_secret
    assert new_secret in response.content.decode() and old_secret not in response.content.decode()
    overlap = subscription.previous_secret_expires_at - timezone.now()
    assert timedelta(hours=23, minutes=59) < overlap <= timedelta(hours=24)

    make_order(customer, ProductFactory())
    headers, body = endpoint.requests[-1]
    signature = headers["Gamarriando-Signature"]
    assert signature.count("v1=") == 2
    assert verify(body, signature, new_secret) and verify(body, signature, old_secret)

    WebhookSubscription.objects.update(previous_secret_expires_at=timezone.now())
    make_order(customer, ProductFactory())
    headers, body = endpoint.requests[-1]
    signature = headers["Gamarriando-Signature"]
    assert json.loads(body)["type"] == "order.created" and signature.count("v1=") == 1
    assert verify(body, signature, new_secret) and not verify(body, signature, old_secret)


@pytest.mark.django_db
def test_finance_and_support_cannot_rotate(client, finance, support):
    subscription = WebhookSubscriptionFactory()
    secret = subscription.secret
    for user in (finance, support):
        client.force_login(user)
        client.post(
            SUBSCRIPTIONS, {"action": "rotate_secret", "_selected_action": [subscription.pk]}
        )
        with pytest.raises(PermissionDeniedError):
            subscription_rotate_secret(subscription_id=subscription.pk, actor=user)
    subscription.refresh_from_db()
    assert subscription.secret == secret and subscription.previous_secret == ""

"""Operations work (reprocess, retry, discard, redeliver) needs gamarriando.run_operations.

Finance holds it, Support and staff without a group do not; the services refuse them
too, so every caller gets the same answer as the admin.
"""

import pytest

from gamarriando.dead_letters import DeadLetter, dead_letter_discard, dead_letter_retry
from gamarriando.errors import PermissionDeniedError
from gamarriando.events import OutboxEvent
from gamarriando.tasks import sweep_outbox
from notifications import services as notification_services
from notifications.models import WebhookDelivery, WebhookSubscription
from notifications.services import delivery_redeliver
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

DEAD_LETTERS = "/admin/gamarriando/deadletter/"
DELIVERIES = "/admin/notifications/webhookdelivery/"
STRIPE_EVENTS = "/admin/payments/stripewebhookevent/"


@pytest.fixture
def clerk(staff_groups):
    """Staff with no group at all."""
    return UserFactory(email="clerk@example.com", is_staff=True)


@pytest.fixture
def letter():
    return DeadLetter.objects.create(
        task_id="task-1", task_name=sweep_outbox.name, kwargs={}, error="RuntimeError: boom"
    )


@pytest.fixture
def delivery(monkeypatch):
    attempted = []
    monkeypatch.setattr(
        notification_services,
        "delivery_attempt",
        lambda *, delivery_id: attempted.append(delivery_id),
    )
    subscription = WebhookSubscription.objects.create(url="http://127.0.0.1:9/hooks")
    event = OutboxEvent.objects.create(type="order.created", data={})
    row = WebhookDelivery.objects.create(subscription=subscription, event=event, status="gave_up")
    row.attempted = attempted
    return row


def action(client, url, name, pk):
    return client.post(url, {"action": name, "_selected_action": [pk]})


def test_finance_holds_run_operations_and_support_does_not(finance, support, clerk):
    assert finance.has_perm("gamarriando.run_operations")
    assert not support.has_perm("gamarriando.run_operations")
    assert not clerk.has_perm("gamarriando.run_operations")


@pytest.mark.parametrize("service", [dead_letter_retry, dead_letter_discard])
def test_dead_letter_services_refuse_support_and_staff_without_a_group(
    service, support, clerk, letter
):
    for actor in (support, clerk):
        with pytest.raises(PermissionDeniedError):
            service(letter, actor=actor)
    letter.refresh_from_db()
    assert letter.status == "open"


@pytest.mark.parametrize(
    ("service", "status"), [(dead_letter_retry, "retried"), (dead_letter_discard, "discarded")]
)
def test_dead_letter_services_let_finance_resolve(service, status, finance, letter):
    service(letter, actor=finance)
    letter.refresh_from_db()
    assert (letter.status, letter.resolved_at is not None) == (status, True)


@pytest.mark.parametrize(("name", "status"), [("retry", "retried"), ("discard", "discarded")])
def test_dead_letter_actions_follow_the_permission(
    client, name, status, finance, support, clerk, letter
):
    client.force_login(support)
    assert client.get(DEAD_LETTERS).status_code == 200
    assert f'value="{name}"' not in client.get(DEAD_LETTERS).content.decode()
    action(client, DEAD_LETTERS, name, letter.pk)
    client.force_login(clerk)
    assert client.get(DEAD_LETTERS).status_code == 403
    assert action(client, DEAD_LETTERS, name, letter.pk).status_code == 403
    letter.refresh_from_db()
    assert letter.status == "open"
    client.force_login(finance)
    action(client, DEAD_LETTERS, name, letter.pk)
    letter.refresh_from_db()
    assert letter.status == status


def test_redeliver_service_refuses_support_and_staff_without_a_group(support, clerk, delivery):
    for actor in (support, clerk):
        with pytest.raises(PermissionDeniedError):
            delivery_redeliver(delivery, actor=actor)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempted) == ("gave_up", [])


def test_redeliver_service_lets_finance_send_again(finance, delivery):
    delivery_redeliver(delivery, actor=finance)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempted) == ("pending", [delivery.pk])


def test_redeliver_action_follows_the_permission(client, finance, support, clerk, delivery):
    client.force_login(support)
    action(client, DELIVERIES, "redeliver", delivery.pk)
    client.force_login(clerk)
    assert action(client, DELIVERIES, "redeliver", delivery.pk).status_code == 403
    assert delivery.attempted == []
    client.force_login(finance)
    action(client, DELIVERIES, "redeliver", delivery.pk)
    assert delivery.attempted == [delivery.pk]


def test_reprocess_action_follows_the_permission(client, finance, support, clerk, stripe_event):
    client.force_login(support)
    assert client.get(STRIPE_EVENTS).status_code == 200
    assert 'value="reprocess"' not in client.get(STRIPE_EVENTS).content.decode()
    action(client, STRIPE_EVENTS, "reprocess", stripe_event.pk)
    client.force_login(clerk)
    assert action(client, STRIPE_EVENTS, "reprocess", stripe_event.pk).status_code == 403
    assert stripe_event.handled == []
    client.force_login(finance)
    action(client, STRIPE_EVENTS, "reprocess", stripe_event.pk)
    assert stripe_event.handled == ["evt_failed2"]


def test_with_the_broker_away_retry_and_redeliver_say_so_instead_of_500(
    client, finance, letter, delivery, use_broker
):
    use_broker("redis://127.0.0.1:1/0")  # nothing listens there
    client.force_login(finance)
    client.raise_request_exception = False
    retried = client.post(
        DEAD_LETTERS, {"action": "retry", "_selected_action": [letter.pk]}, follow=True
    )
    assert retried.status_code == 200
    assert "The task queue cannot be reached" in retried.content.decode()
    letter.refresh_from_db()
    assert letter.status == "open"  # still there to retry once the broker is back
    redelivered = client.post(
        DELIVERIES, {"action": "redeliver", "_selected_action": [delivery.pk]}, follow=True
    )
    assert redelivered.status_code == 200
    assert "will be sent by the retry sweep" in redelivered.content.decode()
    delivery.refresh_from_db()
    assert delivery.status == "pending"  # due now: the sweep sends it

"""Outbox handlers: webhooks for every event, e-mails for payment and refund outcomes."""

from gamarriando.events import batch_shared, subscribe
from gamarriando.queue import enqueue_on_commit
from notifications import services


@subscribe("*")
def fan_out_to_subscribers(envelope: dict) -> None:
    services.deliveries_create(envelope)


def _email(envelope: dict) -> None:
    """Queue the customer's e-mail about a payment or refund outcome, one task per batch."""
    emails = batch_shared("customer_emails", _emails_sent_on_commit)
    emails.append(
        {"event_id": envelope["id"], "event_type": envelope["type"], "data": envelope["data"]}
    )


def _emails_sent_on_commit() -> list[dict]:
    """Return a list that one task takes after commit, with what the batch put in it by then."""
    emails: list[dict] = []
    enqueue_on_commit("notifications.send_customer_emails", emails=emails)
    return emails


for _event_type in services.EMAILS:
    subscribe(_event_type)(_email)

"""Outbox handlers: webhooks for every event, e-mails for payment and refund outcomes."""

from gamarriando.events import subscribe
from gamarriando.queue import enqueue_on_commit
from notifications import services


@subscribe("*")
def fan_out_to_subscribers(envelope: dict) -> None:
    services.deliveries_create(envelope)


def _email(envelope: dict) -> None:
    """Queue the customer's e-mail about a payment or refund outcome."""
    enqueue_on_commit(
        "notifications.send_customer_email", event_type=envelope["type"], data=envelope["data"]
    )


for _event_type in services.EMAILS:
    subscribe(_event_type)(_email)

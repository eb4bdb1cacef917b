"""Celery tasks of notifications."""

from celery import shared_task

from gamarriando.queue import send_now
from notifications import services


@shared_task(name="notifications.deliver_webhook", acks_late=True)
def deliver_webhook(*, delivery_id: int) -> str:
    """Make one attempt at a webhook delivery; the beat sweep retries what failed."""
    return services.delivery_attempt(delivery_id=delivery_id)


@shared_task(name="notifications.retry_due_deliveries")
def retry_due_deliveries() -> int:
    """Queue an attempt for every delivery whose backoff has elapsed, each as its own task."""
    # One task per delivery, not 500 POSTs in a row: the webhooks workers share them out, and
    # a subscriber that hangs holds one attempt, not the whole sweep.
    due = services.deliveries_due()
    for delivery_id in due:
        send_now(deliver_webhook, delivery_id=delivery_id)  # not sent: due again next sweep
    return len(due)


@shared_task(name="notifications.send_customer_email", acks_late=True, max_retries=3)
def send_customer_email(*, event_type: str, data: dict, event_id: str = "") -> None:
    """Send one customer e-mail (one of a batch that failed); a failure leaves a dead letter."""
    services.customer_email_send(event_type=event_type, data=data, event_id=event_id)


@shared_task(name="notifications.send_customer_emails", acks_late=True)
def send_customer_emails(*, emails: list[dict]) -> int:
    """Send the customer e-mails of one outbox batch; each that fails goes on as its own task."""
    return services.customer_emails_deliver(emails)

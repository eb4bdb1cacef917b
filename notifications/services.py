"""Fan events out to subscribers, deliver them signed, and e-mail customers."""

import contextlib
import json
import time
from datetime import datetime, timedelta

import requests
from django.conf import settings
from django.core.cache import cache
from django.core.mail import EmailMultiAlternatives, get_connection, mail_admins
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from gamarriando.dead_letters import require_operations_permission
from gamarriando.errors import PermissionDeniedError
from gamarriando.event_types import EventType
from gamarriando.events import OutboxEvent, batch_shared
from gamarriando.logging import get_logger
from gamarriando.queue import enqueue_on_commit, send_now
from notifications.egress import DEADLINE_SECONDS, TargetRefused, webhook_post
from notifications.models import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
    new_signing_secret,
)
from notifications.signing import SIGNATURE_HEADER, signature_header
from orders.models import Order

logger = get_logger(__name__)
# Backoff between attempts; the last one falls just inside 24 hours after the event.
RETRY_DELAYS = [
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=6),
    timedelta(hours=12),
]
DELIVERY_WINDOW = timedelta(hours=24)
# How long a rotated-out signing secret still signs deliveries, so subscribers can switch.
SECRET_OVERLAP = timedelta(hours=24)
CHANGE_SUBSCRIPTION = "notifications.change_webhooksubscription"
# Disabled only after this many failures in a row spread over a whole delivery window: a
# subscriber down for minutes under traffic reaches 20 failures long before its retries end.
DISABLE_AFTER_FAILURES = 20
DISABLE_AFTER_FAILING_FOR = DELIVERY_WINDOW
# Longer than one POST can take (its deadline, in a worker), so a live attempt keeps its claim.
CLAIM = timedelta(seconds=DEADLINE_SECONDS + 30)
# How long a sent customer e-mail stays marked: longer than any redelivery of its task.
SENT_MARK_SECONDS = 24 * 3600


def _receiving_subscriptions() -> list[WebhookSubscription]:
    """Active subscriptions, and those failures disabled: their events wait for them."""
    receiving = Q(is_active=True) | Q(disabled_at__isnull=False)
    return list(WebhookSubscription.objects.filter(receiving).order_by("pk"))


def deliveries_create(envelope: dict) -> None:
    """Open one delivery per interested subscriber, inside the event's dispatch transaction.

    A subscription that failures disabled gets its delivery too, sent once it is switched back
    on (`deliveries_resume`); one switched off by staff gets none.
    """
    # Read once per outbox batch: the batch's events are dispatched in one transaction anyway.
    for subscription in batch_shared("webhook_subscriptions", _receiving_subscriptions):
        if not subscription.wants(envelope["type"]):
            continue
        delivery, created = WebhookDelivery.objects.get_or_create(
            subscription=subscription,
            event_id=envelope["id"],
            defaults={
                "order_id": envelope.get("order_id") or envelope["data"].get("order_id"),
                # The event's own time, not the dispatch's: an event dispatched late (its
                # handler failed once) still goes before the order's later events.
                "created_at": datetime.fromisoformat(envelope["created_at"]),
            },
        )
        if created and subscription.is_active:
            enqueue_on_commit("notifications.deliver_webhook", delivery_id=delivery.pk)


def _earlier_pending(delivery: WebhookDelivery) -> bool:
    """Tell whether an older event of the same order still waits for this subscriber."""
    if delivery.order_id is None:
        return False
    waiting = WebhookDelivery.objects.filter(
        subscription_id=delivery.subscription_id,
        order_id=delivery.order_id,
        status=DeliveryStatus.PENDING,
        created_at__lt=delivery.created_at,
    ).exists()
    # An older event not dispatched yet (its handler failed and its task retries it) has no
    # delivery to wait behind: its own dispatch makes one, whose success hands over to this.
    return (
        waiting
        or OutboxEvent.objects.filter(
            order_id=delivery.order_id,
            dispatched_at__isnull=True,
            created_at__lt=delivery.created_at,
        ).exists()
    )


def _claim(delivery: WebhookDelivery):
    """Take the delivery for one attempt and return the claim; None while another holds it."""
    now = timezone.now()
    claim = now + CLAIM
    taken = (
        WebhookDelivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.PENDING)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(claimed_until=claim)
    )
    return claim if taken else None


def delivery_attempt(*, delivery_id: int) -> str:
    """Make one signed POST of a pending delivery (no transaction open) and record it."""
    delivery = WebhookDelivery.objects.select_related("subscription").get(pk=delivery_id)
    if not delivery.subscription.is_active:
        return delivery.status  # kept for when it is switched back on, or never sent
    if delivery.status != DeliveryStatus.PENDING or _earlier_pending(delivery):
        return delivery.status
    if delivery.next_attempt_at > timezone.now():
        # Failed moments ago: a second sweep's queued task (or a hand-over) waits for the
        # backoff instead of posting again, which would also count the failure twice.
        return delivery.status
    claim = _claim(delivery)
    if claim is None:
        logger.info("webhook_delivery_in_flight", delivery_id=delivery.pk)
        return delivery.status
    event = OutboxEvent.objects.get(pk=delivery.event_id)
    body = json.dumps(event.envelope(), cls=DjangoJSONEncoder).encode()
    secrets = delivery.subscription.signing_secrets(timezone.now())
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: signature_header(body, secrets),
    }
    started = time.perf_counter()
    status_code, error = None, ""
    try:
        status_code = webhook_post(delivery.subscription.url, body=body, headers=headers)
    except TargetRefused as exc:
        error = f"Refused: {exc}"[:500]
        logger.warning("webhook_target_refused", subscription_id=delivery.subscription_id)
    except requests.RequestException as exc:
        error = str(exc)[:500]
    latency_ms = round((time.perf_counter() - started) * 1000)
    ok = status_code is not None and 200 <= status_code < 300
    now = timezone.now()
    with transaction.atomic():
        # What a redeliver changed meanwhile counts: the row is read again under its lock.
        delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
        WebhookAttempt.objects.create(
            delivery=delivery,
            status_code=status_code,
            latency_ms=latency_ms,
            error=error,
        )
        delivery.attempts += 1
        if delivery.claimed_until == claim:  # a POST that outlived its claim leaves the next one's
            delivery.claimed_until = None
        subscription = WebhookSubscription.objects.select_for_update().get(
            pk=delivery.subscription_id
        )
        if ok:
            delivery.status, delivery.delivered_at = DeliveryStatus.SUCCEEDED, now
            subscription.consecutive_failures, subscription.failing_since = 0, None
        else:
            subscription.consecutive_failures += 1
            subscription.failing_since = subscription.failing_since or now
            delay = RETRY_DELAYS[min(delivery.attempts - 1, len(RETRY_DELAYS) - 1)]
            if now + delay > delivery.created_at + DELIVERY_WINDOW:
                delivery.status = DeliveryStatus.GAVE_UP
            delivery.next_attempt_at = now + delay
        delivery.save()
        if _failing_for_good(subscription, now) and subscription.is_active:
            subscription.is_active, subscription.disabled_at = False, now
            transaction.on_commit(
                lambda: mail_admins(
                    f"Webhook endpoint disabled: {subscription.url}",
                    f"{subscription.url} failed {subscription.consecutive_failures} times in a "
                    f"row since {subscription.failing_since:%Y-%m-%d %H:%M} UTC and was disabled. "
                    "Its events are kept for it: fix it, then switch it back on in the admin "
                    "and every pending one is sent, in order. Those that gave up before can be "
                    "redelivered from its deliveries.",
                )
            )
        subscription.save()
    if ok:
        # The next event of the same order may have been waiting for this one.
        _deliver_next_of_order(delivery)
    return delivery.status


def _failing_for_good(subscription: WebhookSubscription, now: datetime) -> bool:
    """Tell whether the endpoint failed often enough, for long enough, to be disabled."""
    return (
        subscription.consecutive_failures >= DISABLE_AFTER_FAILURES
        and subscription.failing_since is not None
        and now - subscription.failing_since >= DISABLE_AFTER_FAILING_FOR
    )


def deliveries_resume(*, subscription_id: int) -> int:
    """Make every pending delivery of a subscription switched back on due now; return how many.

    The retry sweep sends them, oldest first and in order per order.
    """
    return WebhookDelivery.objects.filter(
        subscription_id=subscription_id, status=DeliveryStatus.PENDING
    ).update(next_attempt_at=timezone.now())


def _deliver_next_of_order(delivery: WebhookDelivery) -> None:
    if delivery.order_id is None:
        return
    following = (
        WebhookDelivery.objects.filter(
            subscription_id=delivery.subscription_id,
            order_id=delivery.order_id,
            status=DeliveryStatus.PENDING,
            created_at__gt=delivery.created_at,
        )
        .order_by("created_at")
        .first()
    )
    if following is not None:  # with the broker away, the retry sweep sends it when due
        send_now("notifications.deliver_webhook", delivery_id=following.pk)


def deliveries_due() -> list[int]:
    """Return pending deliveries whose next attempt is due, oldest first."""
    due = WebhookDelivery.objects.filter(
        status=DeliveryStatus.PENDING,
        next_attempt_at__lte=timezone.now(),
        subscription__is_active=True,
    )
    return list(due.order_by("created_at").values_list("pk", flat=True)[:500])


def delivery_redeliver(delivery: WebhookDelivery, *, actor) -> bool:
    """Send a delivery again now, whatever happened before (staff action); False if not queued.

    Not queued (the broker is away), it is due all the same: the retry sweep sends it.

    Raises:
        PermissionDeniedError: the actor may not run operations work.
    """
    require_operations_permission(actor)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.PENDING, next_attempt_at=timezone.now()
    )
    return send_now("notifications.deliver_webhook", delivery_id=delivery.pk)


def subscription_rotate_secret(*, subscription_id: int, actor) -> str:
    """Give a subscription a new signing secret, keep the old one for 24 hours, return the new.

    Raises:
        PermissionDeniedError: the actor may not change webhook subscriptions.
    """
    if not actor.has_perm(CHANGE_SUBSCRIPTION):
        raise PermissionDeniedError("You may not rotate webhook signing secrets.")
    with transaction.atomic():
        subscription = WebhookSubscription.objects.select_for_update().get(pk=subscription_id)
        # A second rotation within the overlap drops the oldest secret: two at most are valid.
        subscription.previous_secret = subscription.secret
        subscription.previous_secret_expires_at = timezone.now() + SECRET_OVERLAP
        subscription.secret = new_signing_secret()
        subscription.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at"])
    logger.info("webhook_secret_rotated", subscription_id=subscription_id, actor_id=actor.pk)
    return subscription.secret


EMAILS = {
    EventType.PAYMENT_SUCCEEDED: (
        "Payment received for order {order_number}",
        "notifications/payment_succeeded",
    ),
    EventType.PAYMENT_FAILED: (
        "Payment failed for order {order_number}",
        "notifications/payment_failed",
    ),
    EventType.REFUND_SUCCEEDED: (
        "Refund for order {order_number}",
        "notifications/refund_succeeded",
    ),
}


def _customer_message(order: Order, event_type: str, data: dict, connection=None):
    """Build the customer's e-mail about one event, in text and HTML."""
    subject, template = EMAILS[event_type]
    context = {"order": order, "data": data, "customer": order.user}
    message = EmailMultiAlternatives(
        subject=subject.format(order_number=order.order_number),
        body=render_to_string(f"{template}.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[order.user.email],
        connection=connection,
    )
    message.attach_alternative(render_to_string(f"{template}.html", context), "text/html")
    return message


def _sent_key(event_id: str) -> str:
    return f"customer-email-sent:{event_id}"


def _already_sent(event_ids: list[str]) -> set[str]:
    """Return which events' e-mails a run of this task sent before (the cache away: none)."""
    keys = [_sent_key(event_id) for event_id in event_ids if event_id]
    if not keys:
        return set()
    try:
        found = cache.get_many(keys)
    except Exception:  # noqa: BLE001 - without the marks an e-mail may go twice, never zero times
        return set()
    return {key.removeprefix(_sent_key("")) for key in found}


def _send_and_mark(order: Order, email: dict, connection=None) -> None:
    """Send one e-mail, then mark its event's e-mail sent."""
    _customer_message(order, email["event_type"], email["data"], connection).send()
    # A redelivered task (its worker died before the ack) skips what this one sent already.
    if email.get("event_id"):
        with contextlib.suppress(Exception):
            cache.set(_sent_key(email["event_id"]), 1, timeout=SENT_MARK_SECONDS)


def customer_email_send(*, event_type: str, data: dict, event_id: str = "") -> None:
    """E-mail the order's customer about a payment or refund, once per event."""
    if _already_sent([event_id]):
        return
    order = Order.objects.select_related("user").get(pk=data["order_id"])
    _send_and_mark(order, {"event_id": event_id, "event_type": event_type, "data": data})


def customer_emails_send(emails: list[dict]) -> tuple[int, list[dict]]:
    """Send a batch's e-mails over one connection; return how many went and those that failed."""
    sent_before = _already_sent([email.get("event_id", "") for email in emails])
    emails = [email for email in emails if email.get("event_id", "") not in sent_before]
    orders = Order.objects.select_related("user").in_bulk({e["data"]["order_id"] for e in emails})
    mail = get_connection()
    with contextlib.suppress(Exception):
        mail.open()  # kept open for the batch; if it cannot open, each message tries its own
    failed, sent = [], 0
    try:
        for email in emails:
            try:
                _send_and_mark(orders[email["data"]["order_id"]], email, mail)
            except Exception as exc:  # noqa: BLE001 - that one goes on alone; the rest are sent
                logger.warning(
                    "customer_email_failed",
                    event_id=email.get("event_id", ""),
                    event_type=email["event_type"],
                    order_id=email["data"].get("order_id"),
                    error=str(exc)[:200],
                )
                failed.append(email)
            else:
                sent += 1
    finally:
        with contextlib.suppress(Exception):
            mail.close()
    return sent, failed


def customer_emails_deliver(emails: list[dict]) -> int:
    """Send a batch's e-mails; each that fails goes on as its own task. Return how many went."""
    sent, failed = customer_emails_send(emails)
    for email in failed:
        send_now("notifications.send_customer_email", **email)
    return sent

"""The Prometheus alert rules (ops/prometheus/alerts.yml) as database checks that e-mail admins."""

from collections.abc import Callable
from datetime import datetime

from django.conf import settings
from django.core.mail import mail_admins
from django.db.models import Min
from django.utils import timezone

from gamarriando.events import OutboxEvent

_checks: list[Callable[[datetime], list[str]]] = []


def register_alert_check(check: Callable[[datetime], list[str]]):
    """Add an app's check (it returns one line per alert firing at the given time)."""
    if check not in _checks:
        _checks.append(check)
    return check


def alert_checks(*, now=None) -> list[str]:
    """Return one line per alert that fires now."""
    now = now or timezone.now()
    alerts = []
    for check in _checks:
        alerts.extend(check(now))
    oldest = OutboxEvent.objects.filter(dispatched_at__isnull=True).aggregate(
        oldest=Min("created_at")
    )["oldest"]
    if oldest and (now - oldest).total_seconds() > settings.ALERT_OUTBOX_LAG_SECONDS:
        alerts.append(
            f"outbox lag {(now - oldest).total_seconds():.0f} s is above {settings.ALERT_OUTBOX_LAG_SECONDS} s"
        )
    return alerts


def alert_check_and_notify() -> list[str]:
    """Run the checks and e-mail the admins when any fires."""
    alerts = alert_checks()
    if alerts:
        mail_admins("Gamarriando Payments alerts", "\n".join(alerts))
    return alerts

"""Outgoing webhooks to subscribers and e-mails to customers, fed by the outbox."""

from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications"

    def ready(self):
        from notifications import handlers  # noqa: F401  (registers event handlers)

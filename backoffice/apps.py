"""The finance back office: admin screens, money operations, timeline and dashboard."""

from django.apps import AppConfig


class BackofficeConfig(AppConfig):
    name = "backoffice"
    verbose_name = "Back office"

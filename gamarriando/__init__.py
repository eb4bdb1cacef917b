"""Gamarriando Payments: the project package and what every app shares."""

from gamarriando.celery import app as celery_app

__all__ = ["celery_app"]

"""Make about 60 days of demo payments through the real services (once; safe to run again)."""

import time

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from backoffice.demo_history import make_demo_history


class Command(BaseCommand):
    help = "Make ~60 days of demo orders and payments in PEN, USD and JPY (idempotent)."

    def handle(self, *args, **options):
        finance = get_user_model().objects.filter(email="finance@gamarriando.pe").first()
        if finance is None:
            self.stderr.write("Run seed_demo first: the history needs the finance demo user.")
            return
        started = time.perf_counter()
        made = make_demo_history(finance=finance)
        if not made:
            self.stdout.write("Demo history already there.")
            return
        summary = ", ".join(f"{count} {name}" for name, count in made.items())
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo history made in {time.perf_counter() - started:.1f} s: {summary}."
            )
        )

"""Run beat's periodic tasks here and now: the demo (make run) has no beat to run them."""

import time

from django.core.management.base import BaseCommand

from gamarriando.celery import app, registered_task


class Command(BaseCommand):
    help = (
        "Run every periodic task of the beat schedule once, in this process (order and hold "
        "expiry, the janitor, the outbox sweep, webhook retries, alerts...); --every N runs "
        "them all again every N seconds, whatever each one's own period."
    )

    def add_arguments(self, parser):
        parser.add_argument("--every", type=float, default=0, help="repeat every N seconds")

    def handle(self, *args, every: float = 0, **options):
        while True:
            for name, entry in app.conf.beat_schedule.items():
                # Inline, as beat's worker would; one task's failure does not stop the others.
                result = registered_task(entry["task"]).apply(throw=False)
                outcome = "failed" if result.failed() else "ok"
                self.stdout.write(f"{name}: {outcome} ({result.result!r})"[:200])
            if not every:
                return
            time.sleep(every)

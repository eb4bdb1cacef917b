"""A fresh threaded web process finds every task on its first, simultaneous enqueues (issue 16)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = """
import threading
import django
django.setup()
from gamarriando.celery import registered_task
barrier, errors = threading.Barrier(8), []
def first_enqueue():
    barrier.wait()
    try:
        registered_task("gamarriando.dispatch_event")
        registered_task("payments.execute_transaction")
    except Exception as exc:
        errors.append(repr(exc))
threads = [threading.Thread(target=first_enqueue) for _ in range(8)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print("ERRORS", len(errors), errors[:1])
"""


def test_simultaneous_first_lookups_in_a_fresh_process_all_find_their_task():
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="gamarriando.settings.test", PYTHONPATH=str(ROOT))
    for _ in range(3):  # the race needs a fresh process each time
        result = subprocess.run(
            [sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True
        )
        assert "ERRORS 0 []" in result.stdout, result.stdout + result.stderr[-2000:]


CHECKS_SCRIPT = """
import django
django.setup()
from django.db import connection
from django.test.utils import CaptureQueriesContext
from gamarriando.celery import app, registered_task
assert "payments.execute_transaction" not in app.tasks
with CaptureQueriesContext(connection) as sent:
    task = registered_task("payments.execute_transaction")
print("FOUND", task.name, "STATEMENTS", len(sent.captured_queries))
"""


def test_a_first_lookup_imports_the_tasks_without_running_the_system_checks():
    """A web process's first enqueue sends no SQL (dj-stripe's checks query the database)."""
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="gamarriando.settings.test", PYTHONPATH=str(ROOT))
    env.pop("DATABASE_URL", None)  # SQLite: the checks' statements are counted, tables or not
    result = subprocess.run(
        [sys.executable, "-c", CHECKS_SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert "FOUND payments.execute_transaction STATEMENTS 0" in result.stdout, (
        result.stdout + result.stderr[-2000:]
    )

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

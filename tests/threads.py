"""Real threads for race tests: they start together, and each one's answer or exception comes back."""

import contextlib
import fcntl
import tempfile
import threading
from pathlib import Path

from django.db import connection

from gamarriando.errors import ApplicationError

# Each thread holds a PostgreSQL connection: two races of 50 in parallel test processes,
# beside the processes other tests start, would pass PostgreSQL's 100 connections ("too many
# clients already"). Races above this size take turns across the test processes.
BIG_RACE = 10
BIG_RACE_LOCK = Path(tempfile.gettempdir()) / "gamarriando-test-big-races.lock"


def run_concurrently(count, work, timeout=120):
    """Start count threads at one barrier; return what each returned or raised, in thread order.

    An exception raised in a thread is returned, not lost in the thread, so the test sees it.
    """
    with _one_big_race_at_a_time(count):
        return _race(count, work, timeout)


@contextlib.contextmanager
def _one_big_race_at_a_time(count):
    if count <= BIG_RACE:
        yield
        return
    with open(BIG_RACE_LOCK, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file is closed
        yield


def _race(count, work, timeout):
    barrier = threading.Barrier(count)
    results = [None] * count

    def runner(index):
        try:
            barrier.wait()
            results[index] = work(index)
        except Exception as exc:  # collected and asserted by the caller
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    return results


def outcome(result):
    """Name what a thread got: "ok", the contract's error code, or the unexpected exception."""
    if isinstance(result, ApplicationError):
        return result.code
    if isinstance(result, Exception):
        return f"unexpected {type(result).__name__}: {result}"
    return "ok"

"""Real threads for race tests: they start together, and each one's answer or exception comes back."""

import threading

from django.db import connection

from gamarriando.errors import ApplicationError


def run_concurrently(count, work, timeout=120):
    """Start count threads at one barrier; return what each returned or raised, in thread order.

    An exception raised in a thread is returned, not lost in the thread, so the test sees it.
    """
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

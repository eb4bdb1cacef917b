"""Real threads for race tests: they start together, and each one's answer or exception comes back."""

import threading

from django.db import connection


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

"""Machine CPU by process group, read from /proc: what one bench row costs per unit."""

import os
import resource
from pathlib import Path

GROUPS = ("gunicorn", "worker", "postgres", "redis")
TICKS = os.sysconf("SC_CLK_TCK")


def _times(text: str) -> float:
    # utime + stime, and cutime + cstime: the children it reaped. A PostgreSQL backend, a
    # gunicorn worker or a pool child that exits between two readings moves its CPU into its
    # parent's reaped total instead of dropping out of the sum.
    fields = text.rsplit(")", 1)[1].split()
    return sum(int(field) for field in fields[11:15]) / TICKS


def read(web: set[int], worker: set[int]) -> dict[str, float]:
    """Return CPU seconds used so far by group: the web's and the worker's pids, then by name."""
    used = dict.fromkeys(GROUPS, 0.0)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue  # the process ended between the listing and the read
        pid, name = int(stat.parent.name), text[text.index("(") + 1 : text.rindex(")")]
        if pid in web:
            used["gunicorn"] += _times(text)
        elif pid in worker:
            used["worker"] += _times(text)
        # Every process of these names: the bench assumes nothing else uses the servers.
        elif name.startswith("postgres"):
            used["postgres"] += _times(text)
        elif name.startswith("redis"):
            used["redis"] += _times(text)
    # wrk exits after each run, so it is read from our own reaped children (py-spy too, with
    # BENCH_PYSPY_DIR).
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    used["wrk"] = children.ru_utime + children.ru_stime
    return used


def per_unit(before: dict, after: dict, units: float) -> dict | None:
    """Return milliseconds of CPU per unit by group between two readings, None for no units."""
    if units <= 0:
        return None
    return {group: (after[group] - before[group]) * 1000 / units for group in before}


def service_total(cpu_ms: dict) -> float:
    """Return the service's share of a reading per unit: every group but the load generator."""
    return sum(cpu_ms[group] for group in GROUPS)

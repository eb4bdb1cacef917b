"""Server processes the tests start on the test database: a Celery worker, gunicorn."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests
from django.db import connection

ROOT = Path(__file__).resolve().parents[1]
WORKER_QUEUES = "default,payments,events,maintenance,webhooks"


def database_url(application_name: str = "") -> str:
    """The test database (with xdist's suffix when there is one) as a DATABASE_URL."""
    db = connection.settings_dict
    credentials = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    host = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    query = f"?application_name={application_name}" if application_name else ""
    return f"postgres://{credentials}@{host}/{db['NAME']}{query}"


def process_environment(broker_url: str, application_name: str = "", **extra: str) -> dict:
    """This process's environment for a child on the test settings, database and broker."""
    return dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="gamarriando.settings.test",
        DATABASE_URL=database_url(application_name),
        CELERY_TEST_BROKER_URL=broker_url,
        PYTHONUNBUFFERED="1",  # the log file is complete when a failure message reads it
        **extra,
    )


def celery_worker_argv(
    pool: str, concurrency: int | None = None, queues: str = WORKER_QUEUES
) -> list[str]:
    """`celery worker` (on every queue unless told), quiet, without the cluster chatter."""
    threads = ["-c", str(concurrency)] if concurrency else []
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "gamarriando",
        "worker",
        "-P",
        pool,
        *threads,
        "-l",
        "warning",
        "-Q",
        queues,
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]


def wait_until_live(base_url: str, process: "Process", seconds: float = 90) -> bool:
    """Wait for a started web process to answer /health/live; False if it died or never did."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if requests.get(f"{base_url}/health/live", timeout=2).status_code == 200:
                return True
        except (requests.ConnectionError, requests.Timeout):
            pass  # not listening yet, or a worker still importing the app on a busy machine
        time.sleep(0.3)
    return False


class Process:
    """A server process of the stack, with its output kept in a file for the failure message."""

    def __init__(self, name: str, argv: list[str], env: dict, log_dir: Path):
        self.name, self.argv, self.env = name, argv, env
        self.log = log_dir / f"{name}.log"
        self.popen: subprocess.Popen | None = None

    def start(self) -> "Process":
        with self.log.open("a") as out:
            self.popen = subprocess.Popen(
                self.argv, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT
            )
        return self

    def poll(self) -> int | None:
        return self.popen.poll()

    def kill(self) -> None:
        """SIGKILL: no shutdown, no acknowledgements, nothing flushed."""
        os.kill(self.popen.pid, signal.SIGKILL)
        self.popen.wait(timeout=10)

    def stop(self) -> None:
        if self.popen is not None and self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.popen.kill()

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

"""/metrics served by gunicorn's several workers counts every worker's requests, every scrape."""

import os
import re
import subprocess
import sys

import pytest
import requests

from tests.faults.redis_server import free_port
from tests.processes import Process, process_environment, wait_until_live

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.django_db(transaction=True)]
SEEN = re.compile(r"^django_http_requests_before_middlewares_total (\S+)$", re.M)


def test_every_scrape_counts_the_requests_of_all_the_workers(tmp_path):
    # The Celery worker's directory, as compose gives it one: a counter it kept.
    worker_dir = tmp_path / "worker"
    worker_dir.mkdir()
    counted = "from prometheus_client import Counter; Counter('gamarriando_task_retries_total', 'x', ['task']).labels('probe').inc(3)"
    subprocess.run(
        [sys.executable, "-c", counted],
        env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(worker_dir)},
        check=True,
    )
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    argv = [sys.executable, "-m", "gunicorn", "gamarriando.wsgi:application"]
    argv += ["--bind", f"127.0.0.1:{port}", "--workers", "3"]
    env = process_environment(
        "memory://",
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "web"),
        METRICS_SHARED_DIRS=str(worker_dir),
    )
    web = Process("web", argv, env, tmp_path).start()
    try:
        assert wait_until_live(base, web, seconds=60), web.tail()
        for _ in range(12):  # spread over the workers by the kernel's accept queue
            assert requests.get(f"{base}/health/live", timeout=5).status_code == 200
        seen = []
        for _ in range(6):
            page = requests.get(f"{base}/metrics", timeout=5)
            assert page.status_code == 200, page.text[:300]
            seen.append(int(float(SEEN.search(page.text).group(1))))
            # The worker's counter beside the web's, each metric printed once.
            assert 'gamarriando_task_retries_total{task="probe"} 3.0' in page.text
            assert page.text.count("# TYPE django_http_requests_before_middlewares_total ") == 1
    finally:
        web.stop()
    # Each scrape is one more request, whichever worker answered it: one count for all.
    assert seen == list(range(seen[0], seen[0] + 6)) and seen[0] >= 14, seen


@pytest.mark.parametrize("given", [False, True], ids=["made-by-gunicorn", "given"])
def test_gunicorn_removes_the_metrics_directory_it_made_and_keeps_a_given_one(tmp_path, given):
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    given_dir = tmp_path / "given"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    argv = [sys.executable, "-m", "gunicorn", "gamarriando.wsgi:application"]
    argv += ["--bind", f"127.0.0.1:{port}", "--workers", "1"]
    env = process_environment("memory://", TMPDIR=str(scratch))
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    env.pop("GAMARRIANDO_OWN_METRICS_DIR", None)
    if given:
        env["PROMETHEUS_MULTIPROC_DIR"] = str(given_dir)
    web = Process("web", argv, env, tmp_path).start()
    try:
        assert wait_until_live(base, web, seconds=60), web.tail()
        made = list(scratch.glob("gamarriando-metrics-*"))
        assert len(made) == (0 if given else 1), made
    finally:
        web.stop()
    assert web.poll() == 0, web.tail()
    assert not list(scratch.glob("gamarriando-metrics-*")), web.tail()
    assert given_dir.is_dir() == given

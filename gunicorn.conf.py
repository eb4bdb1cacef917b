"""gunicorn reads this file from the working directory (the repo root, /app in the image)."""

import os
import shutil
import tempfile

# Every worker process counts its own requests: prometheus_client's multiprocess mode keeps the
# values in files of one directory and /metrics sums them (gamarriando.metrics.scrape_registry).
# Set before the app (and prometheus_client) is imported; a directory given in the environment
# (compose shares one with the Celery worker) is used as it is.
# A directory made here is named in OWN_METRICS_DIR too, so that on_exit removes it and only it
# (the environment outlives a reload of this file, a flag in it would not).
OWN_METRICS_DIR = "GAMARRIANDO_OWN_METRICS_DIR"
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="gamarriando-metrics-")
    os.environ[OWN_METRICS_DIR] = os.environ["PROMETHEUS_MULTIPROC_DIR"]
os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)
from prometheus_client import multiprocess  # noqa: E402 - after the directory is chosen

# The access log keeps the path without its query string (%(U)s, not the request line %(r)s)
# and no referrer: query values can carry tokens or card data.
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s "%(a)s" %(M)sms'
# A card number typed into a URL's path, the User-Agent or a Basic-auth user (every atom of the
# format that holds client text) is redacted like in every other log line.
logger_class = "gamarriando.gunicorn_logger.RedactingLogger"
# gunicorn believes X-Forwarded-Proto from loopback unless told otherwise: with no proxy in
# front (TRUSTED_PROXIES=0, as Django's settings read it) nobody is believed, so a client on
# this host cannot claim https; behind proxies Django's SECURE_PROXY_SSL_HEADER decides.
# An operator's FORWARDED_ALLOW_IPS (gunicorn reads it itself) is left as it is.
if (
    int(os.environ.get("TRUSTED_PROXIES", "0") or 0) == 0
    and "FORWARDED_ALLOW_IPS" not in os.environ
):
    forwarded_allow_ips = ""


def child_exit(server, worker):
    """Drop a dead worker's live gauges from the shared metrics (its counters stay counted)."""
    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    """Remove the metrics directory this file made; one given in the environment stays."""
    own = os.environ.get(OWN_METRICS_DIR)
    if own and own == os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        shutil.rmtree(own, ignore_errors=True)

"""make bench: the production shape over real HTTP, driven by wrk; one table of ratios.

What it does, by itself, in one run (see docs/benchmarks.md):

1. creates a scratch PostgreSQL database (gam_bench_<random>), migrates it (dj-stripe's
   migrations make this take about a minute and a half) and seeds it (bench/seed.py);
2. starts gunicorn (3 sync workers, as the Dockerfile) with bench.settings, which is
   gamarriando.settings.production serving bench/urls.py (the project's URLs plus the two
   reference endpoints), one Celery worker (prefork, concurrency 2, as docker-compose runs it)
   on the same settings, and uses Redis
   database 13 (flushed first) as cache and broker;
3. counts SQL statements per request in-process (bench/profile.py);
4. drives each row with wrk (bench/wrk.lua) for BENCH_SECONDS after a short warm-up;
5. prints one table: requests/s, ratio to the trivial DRF endpoint (measured again right
   before each row, so a machine whose background load drifts still gives fair ratios),
   p50, p99, non-2xx, statements per request, the target of issue 9 and whether it is met;
6. stops everything and drops the database, also on failure or Ctrl-C.

Environment (all optional): BENCH_SECONDS (10 s per row), BENCH_WARMUP (2), BENCH_REF_SECONDS
(half of BENCH_SECONDS, at least 2: the reference measured before each row), BENCH_POSTGRES
(postgres://postgres@127.0.0.1:5432), BENCH_REDIS (redis://127.0.0.1:6379), BENCH_REDIS_DB (13),
BENCH_ORDERS_SMALL (10000), BENCH_ORDERS_LARGE (1000000; 0 skips that row), BENCH_BACKLOG (5000),
BENCH_DRAIN_LIMIT (120 s: the longest the drain and the checkout's settling are waited for),
BENCH_GUNICORN_WORKERS (3), BENCH_GUNICORN_ARGS (extra gunicorn arguments, e.g. a worker class),
BENCH_WORKER_CONCURRENCY (2), BENCH_TEMPLATE_DB (copy this migrated database instead of
migrating), BENCH_PROFILE_DIR (also cProfile the hot paths in-process into this directory),
BENCH_PYSPY_DIR (sample the gunicorn workers and the Celery worker with py-spy during
BENCH_PYSPY_ROWS; the sampling slows those rows), BENCH_KEEP_DB=1 (keep the database and logs),
BENCH_ROWS (a comma-separated list of row keys to run, e.g. post_spread,checkout; all by default).
DATABASE_* variables other than DATABASE_URL (DATABASE_POOL, DATABASE_SERVER_SIDE_BINDING, ...)
are passed to gunicorn and the worker, to compare those settings.

Beside each ratio the table gives the machine CPU the row cost per request (per settled
checkout, per settled charge): gunicorn, the Celery worker, PostgreSQL and Redis, read from
/proc (bench/cpu.py). It needs no reference measured at another moment, but it still moves
with how fast the cores run at the time: compare it with the reference's own CPU in the same
run, or between paired runs taken close together.
"""

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
import redis  # noqa: E402
from aiosmtpd.controller import Controller  # noqa: E402

from bench import cpu  # noqa: E402
from bench.signing import stripe_signature  # noqa: E402

BIN = Path(sys.executable).parent
SECONDS = float(os.environ.get("BENCH_SECONDS", "10"))
WARMUP = float(os.environ.get("BENCH_WARMUP", "2"))
POSTGRES = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432").rstrip("/")
REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379").rstrip("/")
REDIS_DB = int(os.environ.get("BENCH_REDIS_DB", "13"))
ORDERS_SMALL = int(os.environ.get("BENCH_ORDERS_SMALL", "10000"))
ORDERS_LARGE = int(os.environ.get("BENCH_ORDERS_LARGE", "1000000"))
BACKLOG = int(os.environ.get("BENCH_BACKLOG", "5000"))
GUNICORN_WORKERS = os.environ.get("BENCH_GUNICORN_WORKERS", "3")
GUNICORN_ARGS = os.environ.get("BENCH_GUNICORN_ARGS", "").split()
WORKER_CONCURRENCY = os.environ.get("BENCH_WORKER_CONCURRENCY", "2")  # as docker-compose runs it
TEMPLATE_DB = os.environ.get("BENCH_TEMPLATE_DB", "")
PROFILE_DIR = os.environ.get("BENCH_PROFILE_DIR", "")
KEEP = os.environ.get("BENCH_KEEP_DB", "") == "1"
REF_SECONDS = float(os.environ.get("BENCH_REF_SECONDS", str(max(SECONDS / 2, 2))))
DRAIN_LIMIT = float(os.environ.get("BENCH_DRAIN_LIMIT", "120"))
PYSPY_DIR = os.environ.get("BENCH_PYSPY_DIR", "")
PYSPY_ROWS = os.environ.get("BENCH_PYSPY_ROWS", "detail,list_small,post_spread,post_same,drain")
ROWS = [key.strip() for key in os.environ.get("BENCH_ROWS", "").split(",") if key.strip()]
ROW_KEYS = (
    "plain",
    "trivial",
    "health",
    "products",
    "detail",
    "list_small",
    "list_large",
    "transactions",
    "post_spread",
    "post_same",
    "checkout",
    "drain",
    "health_load",
    "webhook",
)
QUEUES = ["default", "payments", "events", "maintenance", "webhooks"]
STARTED = time.monotonic()


def say(message: str) -> None:
    """Progress goes to stderr; the table alone goes to stdout."""
    elapsed = time.monotonic() - STARTED
    print(
        f"[bench {elapsed // 60:02.0f}:{elapsed % 60:04.1f}] {message}", file=sys.stderr, flush=True
    )


class BenchError(Exception):
    """Something the bench needs is missing or broke; the message says what."""


# -- preconditions --------------------------------------------------------------------------


def ensure_wrk() -> str:
    """Return wrk's path, installing Debian's package when we are root and it is missing."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        say("wrk is missing: apt-get install -y wrk")
        install = ["apt-get", "install", "-y", "-q", "wrk"]
        if subprocess.run(install, capture_output=True).returncode != 0:
            subprocess.run(["apt-get", "update", "-q"], capture_output=True)
            subprocess.run(install, capture_output=True)
        found = shutil.which("wrk")
        if found:
            return found
    raise BenchError(
        "make bench drives HTTP with wrk, which is not installed. Install Debian's package: "
        "sudo apt-get install -y wrk (or put any wrk 4.x on PATH), then run make bench again."
    )


def check_services() -> None:
    try:
        psycopg.connect(f"{POSTGRES}/postgres", connect_timeout=5).close()
    except psycopg.Error as exc:
        raise BenchError(f"PostgreSQL is not reachable at {POSTGRES} ({exc}).") from exc
    try:
        redis.Redis.from_url(f"{REDIS}/{REDIS_DB}", socket_timeout=5).ping()
    except redis.RedisError as exc:
        raise BenchError(f"Redis is not reachable at {REDIS} ({exc}).") from exc


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- the stack ------------------------------------------------------------------------------


@dataclass
class Row:
    key: str
    label: str
    connections: int
    target: str = ""
    per_second: float | None = None
    p50_ms: float | None = None
    p99_ms: float | None = None
    non2xx: int | None = None
    statements: str = ""
    ratio: float | None = None
    reference: float | None = None
    verdict: str = ""
    note: str = ""
    cpu_ms: dict | None = None  # machine CPU per unit by process group (bench/cpu.py)


class MailSink:
    """A local SMTP server (aiosmtpd) that takes every e-mail and keeps only a count."""

    def __init__(self):
        self.port = free_port()
        self.received = 0
        self._controller = None

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.received += 1
        return "250 OK"

    def start(self) -> None:
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@dataclass
class Stack:
    """The scratch database, gunicorn, the worker and Redis of one bench run."""

    database: str = field(default_factory=lambda: f"gam_bench_{secrets.token_hex(4)}")
    port: int = field(default_factory=free_port)
    logs: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="gam-bench-")))
    webhook_secret: str = field(default_factory=lambda: f"whsec_bench{secrets.token_hex(16)}")
    created: bool = False
    web: subprocess.Popen | None = None
    worker: subprocess.Popen | None = None
    workers_started: int = 0
    idle_since: float = 0.0  # wait_idle looks at outbox and ledger rows created after this
    mail: "MailSink" = field(default_factory=lambda: MailSink())

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def env(self) -> dict:
        """A clean production environment: only what production reads, plus the bench's choices."""
        keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")}
        keep.update({k: v for k, v in os.environ.items() if k.startswith("LC_")})
        broker = f"{REDIS}/{REDIS_DB}"
        return {
            **keep,
            "PYTHONPATH": str(ROOT),
            "PYTHONUNBUFFERED": "1",
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "SECRET_KEY": _secret("secret"),
            "JWT_SECRET_KEY": _secret("jwt"),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DATABASE_URL": f"{POSTGRES}/{self.database}",
            "REDIS_URL": broker,
            "PAYMENT_GATEWAYS": "simulated",
            # production refuses the simulated gateway unless told; this is the switch it reads
            "ALLOW_SIMULATED_GATEWAY": "true",
            # as behind production's TLS proxy: X-Forwarded-Proto (sent by wrk.lua) is believed
            "TRUSTED_PROXIES": "1",
            # The throttle still reads and writes its cache entry on every order create; a
            # per-second window keeps that entry as small as production's 60/min one.
            "THROTTLE_ORDERS_CREATE": "100000/s",
            # A handful of buyers place thousands of orders: lift the per-user abuse limits.
            "THROTTLE_PAYMENTS_CREATE": "100000/s",
            "THROTTLE_PAYMENTS_PROCESS": "100000/s",
            "ORDER_MAX_PENDING_PER_USER": "100000000",
            "JWT_ACCESS_MINUTES": "240",  # the 1M insert may outlast the default 15 minutes
            "STRIPE_WEBHOOK_SECRET": self.webhook_secret,
            # Customer e-mails go to a local SMTP server, as production's go to its mail server
            # (with no EMAIL_URL the console backend would print each into the worker's log).
            "EMAIL_URL": f"smtp://127.0.0.1:{self.mail.port}",
            **{
                k: v
                for k, v in os.environ.items()
                if k.startswith("DATABASE_") and k != "DATABASE_URL"
            },
        }

    def redis(self) -> redis.Redis:
        return redis.Redis.from_url(f"{REDIS}/{REDIS_DB}")

    def db(self) -> psycopg.Connection:
        return psycopg.connect(f"{POSTGRES}/{self.database}", autocommit=True)

    def python(self, *args: str, log: str) -> str:
        """Run python with the bench environment; return its stdout, raise with the log on failure."""
        result = subprocess.run(
            [sys.executable, *args], cwd=ROOT, env=self.env, capture_output=True, text=True
        )
        (self.logs / log).write_text(result.stdout + result.stderr)
        if result.returncode != 0:
            tail = (result.stdout + result.stderr)[-3000:]
            raise BenchError(f"{' '.join(args)} failed:\n{tail}")
        return result.stdout

    def python_json(self, *args: str, log: str) -> dict:
        lines = [ln for ln in self.python(*args, log=log).splitlines() if ln.startswith("{")]
        return json.loads(lines[-1])

    # database

    def create_database(self) -> None:
        with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as conn:
            if TEMPLATE_DB:
                conn.execute(f'CREATE DATABASE "{self.database}" TEMPLATE "{TEMPLATE_DB}"')
            else:
                conn.execute(f'CREATE DATABASE "{self.database}"')
        self.created = True

    def drop_database(self) -> None:
        if not self.created:
            return
        with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
        self.created = False

    # processes

    def _spawn(self, args: list[str], log: str) -> subprocess.Popen:
        handle = open(self.logs / log, "ab")  # noqa: SIM115 - lives as long as the process
        return subprocess.Popen(
            args,
            cwd=ROOT,
            env=self.env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches only us; we stop them in order
        )

    def start_web(self) -> None:
        self.web = self._spawn(
            [
                str(BIN / "gunicorn"),
                "gamarriando.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                GUNICORN_WORKERS,
                "--timeout",
                "30",
                "--access-logfile",
                "-",
                *GUNICORN_ARGS,
            ],
            "gunicorn.log",
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.web.poll() is not None:
                raise BenchError(f"gunicorn exited; see {self.logs / 'gunicorn.log'}")
            try:
                if self.get("/bench/plain").status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise BenchError("gunicorn did not answer within 60 s")

    def start_worker(self) -> None:
        self.workers_started += 1
        self.worker = self._spawn(
            [
                str(BIN / "celery"),
                "-A",
                "gamarriando",
                "worker",
                "-Q",
                ",".join(QUEUES),
                "--concurrency",
                WORKER_CONCURRENCY,
                "-n",
                f"bench{self.workers_started}@%h",
                "-l",
                "info",
            ],
            "worker.log",
        )

    @staticmethod
    def _stop(process: subprocess.Popen | None, timeout: float = 30) -> None:
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGTERM)  # the group we created for it, by its id
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    @staticmethod
    def children(process: subprocess.Popen | None) -> list[int]:
        """Return the pids of a process's children (gunicorn's workers)."""
        if process is None:
            return []
        found = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == process.pid:
                found.append(int(stat.parent.name))
        return found

    def cpu(self) -> dict[str, float]:
        """Return the CPU seconds used so far by gunicorn, the worker, PostgreSQL, Redis, wrk."""
        web = {self.web.pid, *self.children(self.web)} if self.web else set()
        worker = {self.worker.pid, *self.children(self.worker)} if self.worker else set()
        return cpu.read(web, worker)

    def stop_worker(self) -> None:
        self._stop(self.worker)
        self.worker = None

    def teardown(self) -> None:
        """Stop the processes, drop the database, flush Redis; a second Ctrl-C cannot stop it."""
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, signal.SIG_IGN)
        steps = [lambda: self._stop(self.web), self.stop_worker, self.mail.stop]
        if not KEEP:
            steps += [self.drop_database, lambda: self.redis().flushdb()]
        for step in steps:
            try:
                step()
            except Exception as exc:  # keep going: the database must still be dropped
                say(f"cleanup step failed: {exc!r}")
        if KEEP:
            say(f"kept database {self.database} and logs in {self.logs}")
        else:
            shutil.rmtree(self.logs, ignore_errors=True)

    # http

    def get(self, path: str):
        request = urllib.request.Request(
            self.base_url + path, headers={"X-Forwarded-Proto": "https"}
        )
        return urllib.request.urlopen(request, timeout=10)

    def token(self, email: str, password: str) -> str:
        request = urllib.request.Request(
            self.base_url + "/api/v1/auth/token",
            data=json.dumps({"email": email, "password": password}).encode(),
            headers={"Content-Type": "application/json", "X-Forwarded-Proto": "https"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)["access"]

    # waiting for the server and the worker

    def accept_queue(self) -> int:
        """Return how many connections wait in gunicorn's listen backlog (from /proc/net/tcp)."""
        local = f"0100007F:{self.port:04X}"
        with open("/proc/net/tcp") as table:
            for line in table.readlines()[1:]:
                fields = line.split()
                if fields[1] == local and fields[3] == "0A":  # LISTEN
                    return int(fields[4].split(":")[1], 16)
        return 0

    def quiesce(self, tail_ms: float) -> None:
        """Let gunicorn finish what wrk left queued when it stopped, before the next run.

        wrk closes its connections at the deadline, but requests already sent stay in the
        listen backlog and sync workers still serve them (order creates included); a run
        that starts then would share the workers with them.
        """
        deadline = time.monotonic() + 60
        while self.accept_queue() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(min(tail_ms / 1000, 5) + 0.1)  # the requests in the workers' hands

    def wait_idle(self, timeout: float = 60) -> None:
        """Wait until the queues are empty and nothing is pending in the outbox or the ledger."""
        if self.worker is None:
            return  # stopped: nothing will move
        client = self.redis()
        deadline = time.monotonic() + timeout
        with self.db() as conn:
            while time.monotonic() < deadline:
                queued = sum(client.llen(queue) for queue in QUEUES) + client.hlen("unacked")
                outbox, ledger = conn.execute(
                    "SELECT (SELECT count(*) FROM gamarriando_outboxevent"
                    "        WHERE dispatched_at IS NULL AND created_at >= to_timestamp(%s)),"
                    "       (SELECT count(*) FROM transactions_transaction"
                    "        WHERE status = 'pending' AND created_at >= to_timestamp(%s))",
                    [self.idle_since, self.idle_since],
                ).fetchone()
                if queued == 0 and outbox == 0 and ledger == 0:
                    return
                time.sleep(0.25)
        say(
            f"warning: the worker was not idle after {timeout:.0f} s (queued {queued}, "
            f"outbox {outbox}, pending ledger rows {ledger}); going on"
        )


def _secret(name: str) -> str:
    # One value per run and per name, so gunicorn, the worker and the helpers agree.
    return _SECRETS.setdefault(name, secrets.token_urlsafe(48))


_SECRETS: dict[str, str] = {}


# -- wrk ------------------------------------------------------------------------------------


def wrk(
    stack: Stack,
    path: str,
    *,
    connections: int = 8,
    threads: int = 2,
    seconds=None,
    warmup=True,
    **lua_env,
) -> dict:
    """Run wrk on one path with bench/wrk.lua; return the script's summary."""
    env = {
        **os.environ,
        "BENCH_THREADS": str(threads),
        **{f"BENCH_{key.upper()}": str(value) for key, value in lua_env.items()},
    }
    if warmup and WARMUP > 0:
        _wrk_once(stack, path, connections, threads, WARMUP, env)
    return _wrk_once(stack, path, connections, threads, seconds or SECONDS, env)


def _wrk_command(stack, path, connections, threads, seconds):
    return [
        WRK,
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds:g}s",
        "--timeout",
        "10s",
        "-s",
        str(ROOT / "bench" / "wrk.lua"),
        stack.base_url + path,
    ]


def _wrk_once(stack, path, connections, threads, seconds, env) -> dict:
    result = subprocess.run(
        _wrk_command(stack, path, connections, threads, seconds),
        env=env,
        capture_output=True,
        text=True,
    )
    stats = _parse_wrk(result)
    stack.quiesce(stats["p99_ms"])
    return stats


def _parse_wrk(result) -> dict:
    for line in result.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            stats = json.loads(line.removeprefix("BENCH_JSON "))
            stats["per_second"] = stats["requests"] / (stats["duration_us"] / 1e6)
            stats["p50_ms"] = stats["p50_us"] / 1000
            stats["p99_ms"] = stats["p99_us"] / 1000
            stats["bad"] = stats["non2xx"] + stats["socket_errors"]
            return stats
    raise BenchError(f"wrk printed no summary:\n{result.stdout}\n{result.stderr}")


def fill(row: Row, stats: dict) -> Row:
    row.per_second = stats["per_second"]
    row.p50_ms, row.p99_ms, row.non2xx = stats["p50_ms"], stats["p99_ms"], stats["bad"]
    if stats["socket_errors"]:
        row.note = f"{stats['socket_errors']} socket errors counted as non-2xx"
    return row


def wanted(key: str) -> bool:
    """Say whether BENCH_ROWS asks for this row (all rows when it is unset)."""
    return not ROWS or key in ROWS


def webhook_file(stack: Stack, count: int) -> Path:
    """Write `count` signed Stripe events, one per line: signature, tab, body."""
    path = stack.logs / "webhooks.txt"
    stamp = int(time.time())
    with open(path, "w") as out:
        for _ in range(count):
            body = json.dumps(
                {
                    "id": f"evt_{uuid.uuid4().hex}",
                    "object": "event",
                    "type": "payment_intent.succeeded",
                    "created": stamp,
                    "livemode": False,
                    "api_version": "2026-08-26.dahlia",
                    "data": {"object": {"id": "pi_bench", "object": "payment_intent"}},
                },
                separators=(",", ":"),
            )
            out.write(f"{stripe_signature(body, stack.webhook_secret, stamp)}\t{body}\n")
    return path


# -- the run --------------------------------------------------------------------------------


class Runner:
    """Measure the rows of one run; each beside its own fresh measurement of the reference."""

    def __init__(self, stack: Stack, statements: dict, seed: dict, tokens: dict):
        self.stack, self.statements, self.seed, self.tokens = stack, statements, seed, tokens
        self.rows: dict[str, Row] = {}

    def reference(self) -> float:
        """Measure the trivial DRF endpoint now (REF_SECONDS, no warm-up); return req/s."""
        stats = wrk(self.stack, "/bench/trivial", seconds=REF_SECONDS, warmup=False)
        return stats["per_second"]

    def reference_after(self, before: float) -> float:
        """Measure the reference again once the row's work is done; return the mean of both."""
        # The machine's speed drifts within a run (other processes, the database's background
        # writers): the mean of the reference just before and just after a row halves the
        # error a drift puts into the row's ratio.
        self.stack.wait_idle()
        return (before + self.reference()) / 2

    def measure(self, key, label, path, *, connections=8, target="", stmts="", **lua) -> Row | None:
        """Warm up, measure the reference, the row, the reference again; ratio to their mean."""
        if not wanted(key):
            return None
        say(f"{label} ...")
        if WARMUP > 0:
            wrk(self.stack, path, connections=connections, seconds=WARMUP, warmup=False, **lua)
        self.stack.wait_idle()
        reference = self.reference()
        before = self.stack.cpu()
        with self.pyspy(key):
            stats = wrk(self.stack, path, connections=connections, warmup=False, **lua)
        self.stack.wait_idle()  # the tasks its requests queued are part of its cost
        row = fill(Row(key, label, connections, target, statements=stmts), stats)
        row.cpu_ms = cpu.per_unit(before, self.stack.cpu(), stats["requests"])
        row.reference = self.reference_after(reference)
        self.rows[key] = row
        return row

    @contextlib.contextmanager
    def pyspy(self, key: str, pids=None):
        """With BENCH_PYSPY_DIR, sample the gunicorn workers (or pids) during a row."""
        spy = shutil.which("py-spy") or str(BIN / "py-spy")
        if not PYSPY_DIR or key not in PYSPY_ROWS or not Path(spy).exists():
            yield
            return
        out = Path(PYSPY_DIR)
        out.mkdir(parents=True, exist_ok=True)
        samplers = [
            subprocess.Popen(
                [
                    spy,
                    "record",
                    "--pid",
                    str(pid),
                    "--duration",
                    f"{SECONDS:g}",
                    "--rate",
                    "100",
                    "--idle",
                    "--nonblocking",
                    *(["--subprocesses"] if pids else []),  # a worker's prefork children
                    "--format",
                    "raw",
                    "--output",
                    str(out / f"{key}-{n}.txt"),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for n, pid in enumerate(pids or self.stack.children(self.stack.web))
        ]
        try:
            yield
        finally:
            for sampler in samplers:
                sampler.wait()


def run(stack: Stack) -> list[Row]:
    check_services()
    say(f"scratch database {stack.database}; logs in {stack.logs}")
    stack.create_database()
    if TEMPLATE_DB:
        say(f"copied {TEMPLATE_DB} (BENCH_TEMPLATE_DB): no migrate")
    else:
        say("migrating (about a minute and a half: dj-stripe's migrations create 62 tables)")
        started = time.monotonic()
        stack.python("manage.py", "migrate", "--no-input", log="migrate.log")
        say(f"migrated in {time.monotonic() - started:.0f} s")
    started = time.monotonic()
    seed = stack.python_json(
        "-m", "bench.seed", "base", "--orders", str(ORDERS_SMALL), log="seed.log"
    )
    say(
        f"seeded {seed['orders']} orders, {len(seed['products'])} products in "
        f"{time.monotonic() - started:.0f} s"
    )
    stack.redis().flushdb()
    stack.mail.start()
    stack.start_web()
    stack.start_worker()
    say(
        f"gunicorn ({GUNICORN_WORKERS} workers) on :{stack.port}, celery worker "
        f"(concurrency {WORKER_CONCURRENCY}) up"
    )
    tokens = {
        "lister": stack.token(seed["lister"], seed["password"]),
        "buyers": ",".join(stack.token(email, seed["password"]) for email in seed["buyers"]),
        "products": ",".join(str(pk) for pk in seed["products"]),
        "same": str(seed["products"][0]),
    }
    profile_args = ["--profile", PROFILE_DIR] if PROFILE_DIR else []
    statements = stack.python_json("-m", "bench.profile", *profile_args, log="profile.log")
    say(f"statements per request: {statements}")
    # bench.profile leaves undispatched outbox rows (it holds its tasks back): not the worker's
    stack.idle_since = time.time()
    stack.wait_idle()
    runner = Runner(stack, statements, seed, tokens)
    reads(runner)
    writes(runner)
    if wanted("checkout"):
        checkout(runner)
    if wanted("webhook"):
        webhook_ingest(runner)
    if wanted("drain"):
        drain(runner)
    if ORDERS_LARGE > 0 and wanted("list_large"):
        large_list(runner)
    return judge(runner.rows)


def reads(runner: Runner) -> None:
    stmts, lister = runner.statements, runner.tokens["lister"]
    runner.measure("plain", "plain Django JsonResponse", "/bench/plain", stmts="0")
    if wanted("trivial"):
        say("trivial DRF APIView (reference) ...")
        if WARMUP > 0:
            wrk(runner.stack, "/bench/trivial", seconds=WARMUP, warmup=False)
        before = runner.stack.cpu()
        stats = wrk(runner.stack, "/bench/trivial", warmup=False)
        trivial = fill(Row("trivial", "trivial DRF APIView (reference)", 8, statements="0"), stats)
        trivial.cpu_ms = cpu.per_unit(before, runner.stack.cpu(), stats["requests"])
        trivial.reference = trivial.per_second
        runner.rows["trivial"] = trivial
    runner.measure(
        "health", "GET /health", "/health", target="100 % 200", stmts=str(stmts["health"])
    )
    runner.measure(
        "products",
        "GET /api/v1/products",
        "/api/v1/products",
        target="≥ 0.40",
        stmts=str(stmts["products"]),
    )
    runner.measure(
        "detail",
        "GET /api/v1/orders/{id}",
        f"/api/v1/orders/{runner.seed['order_id']}",
        target="≥ 0.30",
        stmts=str(stmts["order_detail"]),
        tokens=lister,
    )
    runner.measure(
        "list_small",
        f"GET /api/v1/orders, {ORDERS_SMALL // 1000}k orders",
        "/api/v1/orders",
        target="≥ 0.20",
        stmts=str(stmts["orders_list"]),
        tokens=lister,
    )
    runner.measure(
        "transactions",
        "GET /api/v1/transactions",
        "/api/v1/transactions",
        target="≥ 0.30",
        stmts=str(stmts["transactions"]),
        tokens=lister,
    )


def writes(runner: Runner) -> None:
    stmts, tokens, stack = runner.statements, runner.tokens, runner.stack
    create = f"{stmts['order_create']} + {stmts['order_create_tasks']}w"
    orders = {"mode": "orders", "tokens": tokens["buyers"]}
    runner.measure(
        "post_spread",
        "POST /api/v1/orders, products spread",
        "/api/v1/orders",
        target="≥ 0.15",
        stmts=create,
        products=tokens["products"],
        **orders,
    )
    stack.wait_idle()
    runner.measure(
        "post_same",
        "POST /api/v1/orders, one product",
        "/api/v1/orders",
        connections=16,
        target="≥ 0.8 × spread",
        stmts=create,
        products=tokens["same"],
        **orders,
    )
    if wanted("health_load"):
        health_under_load(runner)


def health_under_load(runner: Runner) -> None:
    """/health probed (2 connections) while 8 connections place orders."""
    tokens, stack = runner.tokens, runner.stack
    stack.wait_idle()
    say("GET /health during POST /api/v1/orders load ...")
    reference = runner.reference()
    env = {
        **os.environ,
        "BENCH_THREADS": "2",
        "BENCH_MODE": "orders",
        "BENCH_TOKENS": tokens["buyers"],
        "BENCH_PRODUCTS": tokens["products"],
    }
    load = subprocess.Popen(
        _wrk_command(stack, "/api/v1/orders", 8, 2, SECONDS + 2),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(1)
    probe = wrk(stack, "/health", connections=2, threads=1, warmup=False)
    out, err = load.communicate()
    stack.quiesce(1000)
    background = _parse_wrk(subprocess.CompletedProcess([], 0, out, err))
    row = fill(
        Row("health_load", "GET /health under POST load", 2, "100 % 200", statements="1"),
        probe,
    )
    row.reference = runner.reference_after(reference)
    row.note = (
        f"beside 8 connections of POST /api/v1/orders at {background['per_second']:.0f}/s "
        f"({background['bad']} non-2xx)"
    )
    runner.rows["health_load"] = row


def checkout(runner: Runner) -> None:
    """Order + payment + process on one connection per wrk thread; counted once settled."""
    stmts, tokens, stack = runner.statements, runner.tokens, runner.stack
    say("checkout (order + payment + process tok_success, until settled) ...")
    lua = {"mode": "checkout", "tokens": tokens["buyers"], "products": tokens["products"]}
    stack.wait_idle()
    if WARMUP > 0:
        wrk(stack, "/api/v1/orders", connections=8, threads=8, seconds=WARMUP, warmup=False, **lua)
        stack.wait_idle()
    reference = runner.reference()
    started = time.time()
    before = stack.cpu()
    stats = wrk(stack, "/api/v1/orders", connections=8, threads=8, warmup=False, **lua)
    stack.wait_idle(timeout=DRAIN_LIMIT)
    after = stack.cpu()
    with stack.db() as conn:
        settled, last, pending = conn.execute(
            "SELECT count(*) FILTER (WHERE status = 'succeeded'),"
            "       extract(epoch FROM max(processed_at)),"
            "       count(*) FILTER (WHERE status = 'pending')"
            " FROM transactions_transaction"
            " WHERE transaction_type = 'charge' AND created_at >= to_timestamp(%s)",
            [started],
        ).fetchone()
    web = stmts["order_create"] + stmts["payment_create"] + stmts["payment_process"]
    worker = stmts["order_create_tasks"] + stmts["payment_create_tasks"]
    worker += stmts["charge_settle_tasks"]
    row = fill(Row("checkout", "checkout: order + payment + process, settled", 8, "≥ 0.05"), stats)
    row.statements = f"{web} + {worker}w"
    span = float(last) - started if settled else 0.0
    row.per_second = settled / span if span else 0.0
    row.cpu_ms = cpu.per_unit(before, after, settled)
    row.reference = runner.reference_after(reference)
    row.note = (
        f"{settled} checkouts settled ({stats['processed']} processes accepted, {pending} still "
        f"pending) in {span:.1f} s = {SECONDS:g} s of load + the worker's drain; "
        f"{stats['per_second']:.0f} HTTP req/s; p50/p99 are per HTTP request"
    )
    runner.rows["checkout"] = row


def webhook_ingest(runner: Runner) -> None:
    """Stripe webhook ingest, with the worker stopped: nothing queued here may reach Stripe."""
    stack = runner.stack
    stack.wait_idle()
    stack.stop_worker()
    lines = webhook_file(stack, int((SECONDS + WARMUP + 1) * 2000))
    runner.measure(
        "webhook",
        "POST /webhooks/stripe (verify, store, enqueue)",
        "/webhooks/stripe",
        target="≥ 0.3",
        stmts=str(runner.statements["webhook_ingest"]),
        mode="webhook",
        webhook_file=lines,
    )
    for queue in QUEUES:  # the queued Stripe events: never processed here
        stack.redis().delete(queue)


def drain(runner: Runner) -> None:
    """Queue BACKLOG charges with the worker stopped, start it, time the settling."""
    stack = runner.stack
    stack.stop_worker()  # already stopped by the webhook row; a second worker would share the drain
    say(f"queueing {BACKLOG} simulated charges with the worker stopped ...")
    backlog = stack.python_json(
        "-m", "bench.seed", "backlog", "--count", str(BACKLOG), log="backlog.log"
    )
    mails_before = stack.mail.received
    stack.start_worker()
    say(f"worker started; draining (at most {DRAIN_LIMIT:g} s) ...")
    started = time.monotonic()
    before = None  # read at the first settled charge: the worker's start-up is not a charge's
    with stack.db() as conn, runner.pyspy("drain", pids=[stack.worker.pid]):
        while True:
            pending, first, last = conn.execute(
                "SELECT count(*) FILTER (WHERE status = 'pending'),"
                "       extract(epoch FROM min(processed_at)),"
                "       extract(epoch FROM max(processed_at))"
                " FROM transactions_transaction WHERE id BETWEEN %s AND %s",
                [backlog["first_transaction"], backlog["last_transaction"]],
            ).fetchone()
            if before is None and first is not None:
                before, settled_before = stack.cpu(), backlog["queued"] - pending
            if pending == 0 or time.monotonic() - started > DRAIN_LIMIT:
                break
            time.sleep(0.2)
    elapsed = time.monotonic() - started
    stack.wait_idle()  # the e-mails and events the charges queued, counted as the checkout's are
    after = stack.cpu()
    stack.stop_worker()
    for queue in QUEUES:  # what is left of a capped drain
        stack.redis().delete(queue)
    settled = backlog["queued"] - pending
    span = float(last) - float(first) if settled > 1 else 0.0
    row = Row(
        "drain",
        f"1 worker draining {BACKLOG} queued charges",
        0,
        "≥ 150 /s",
        statements=f"{runner.statements['charge_settle_tasks']}w",
    )
    row.per_second = (settled - 1) / span if span else 0.0
    if before is not None:
        row.cpu_ms = cpu.per_unit(before, after, settled - settled_before)
    row.non2xx = pending
    row.note = (
        f"{settled} of {backlog['queued']} settled; rate from the first to the last settled "
        f"({span:.1f} s); {elapsed:.1f} s from the worker's start"
        + (f"; stopped at the {DRAIN_LIMIT:g} s limit" if pending else "")
        + f"; {stack.mail.received - mails_before} customer e-mails reached the SMTP server by then"
    )
    runner.rows["drain"] = row


def large_list(runner: Runner) -> None:
    stack = runner.stack
    say(f"growing to {ORDERS_LARGE} orders (bulk SQL) ...")
    started = time.monotonic()
    grown = stack.python_json("-m", "bench.seed", "grow", "--to", str(ORDERS_LARGE), log="grow.log")
    runner.grow_seconds = time.monotonic() - started
    say(f"{grown['orders']} orders in the table after {runner.grow_seconds:.0f} s")
    runner.measure(
        "list_large",
        f"GET /api/v1/orders, {ORDERS_LARGE // 1000}k orders",
        "/api/v1/orders",
        target="≥ 0.20, p50 ≤ 1.1 × small",
        stmts=str(runner.statements["orders_list"]),
        tokens=runner.tokens["lister"],
    )
    runner.rows["list_large"].note = (
        f"{grown['orders']} orders in the table: the lister's {grown['lister_orders']}, the rest "
        f"from earlier rows' buyers and {grown['crowd']} other customers; "
        f"inserted in {runner.grow_seconds:.0f} s"
    )


def judge(rows: dict[str, Row]) -> list[Row]:
    """Fill the ratios and the verdicts."""
    for row in rows.values():
        if row.per_second is not None and row.reference:
            row.ratio = row.per_second / row.reference

    def at_least(key, bound):
        row = rows.get(key)  # absent when BENCH_ROWS left it out
        if row is not None:
            row.verdict = "yes" if row.ratio >= bound and not row.non2xx else "NO"

    def all_200(key):
        if key in rows:
            rows[key].verdict = "yes" if rows[key].non2xx == 0 else "NO"

    all_200("health")
    all_200("health_load")
    at_least("products", 0.40)
    at_least("detail", 0.30)
    at_least("list_small", 0.20)
    at_least("transactions", 0.30)
    at_least("post_spread", 0.15)
    at_least("checkout", 0.05)
    at_least("webhook", 0.3)
    spread, same = rows.get("post_spread"), rows.get("post_same")
    if spread and same:
        same_vs_spread = same.ratio / spread.ratio if spread.ratio else 0.0
        same.verdict = "yes" if same_vs_spread >= 0.8 and not same.non2xx else "NO"
        same.target = f"≥ 0.8 × spread (got {same_vs_spread:.2f} ×)"
    drain = rows.get("drain")
    if drain:
        drain.verdict = "yes" if drain.per_second >= 150 and drain.non2xx == 0 else "NO"
    large, small = rows.get("list_large"), rows.get("list_small")
    if large and small:
        raw = large.p50_ms / small.p50_ms
        # At a fixed number of connections latency is the inverse of throughput, so the
        # ratios to each row's own reference give the latency change without the drift of
        # the machine's background load between the two measurements.
        normalized = small.ratio / large.ratio if large.ratio else float("inf")
        large.target = (
            f"≥ 0.20; latency ≤ 1.1 × small (got {normalized:.2f} ×, raw p50 {raw:.2f} ×)"
        )
        large.verdict = "yes" if large.ratio >= 0.20 and normalized <= 1.1 else "NO"
    elif large:  # run without the 10k row: only its own bound can be judged
        large.verdict = "yes" if large.ratio >= 0.20 and not large.non2xx else "NO"
        large.target = "≥ 0.20 (latency not compared: list_small was not run)"
    return [rows[key] for key in ROW_KEYS if key in rows]


def table(rows: list[Row]) -> str:
    """Render the rows as one Markdown table, notes below it."""
    head = [
        "row",
        "conns",
        "req/s",
        "ref req/s",
        "ratio",
        "p50 ms",
        "p99 ms",
        "CPU ms",
        "non-2xx",
        "SQL/req",
        "target (issue 9)",
        "met",
    ]
    body = []
    for row in rows:
        unit = {"checkout": " checkouts/s", "drain": " settled/s"}.get(row.key, "")
        body.append(
            [
                row.label,
                str(row.connections) if row.connections else "1 worker",
                f"{row.per_second:.1f}{unit}" if row.per_second is not None else "",
                f"{row.reference:.1f}" if row.reference else "—",
                "1.00"
                if row.key == "trivial"
                else (f"{row.ratio:.3f}" if row.ratio is not None else "—"),
                f"{row.p50_ms:.1f}" if row.p50_ms is not None else "—",
                f"{row.p99_ms:.1f}" if row.p99_ms is not None else "—",
                f"{cpu.service_total(row.cpu_ms):.2f}" if row.cpu_ms else "—",
                str(row.non2xx) if row.non2xx is not None else "",
                row.statements,
                row.target or "—",
                row.verdict or "—",
            ]
        )
    widths = [max(len(line[i]) for line in [head, *body]) for i in range(len(head))]

    def fmt(cells):
        return "| " + " | ".join(cell.ljust(widths[i]) for i, cell in enumerate(cells)) + " |"

    lines = [fmt(head), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    lines += [fmt(cells) for cells in body]
    notes = [f"- {row.label}: {row.note}" for row in rows if row.note]
    cpu_lines = [
        f"- {row.label}: "
        + ", ".join(f"{group} {row.cpu_ms[group]:.2f}" for group in cpu.GROUPS)
        + f" (wrk {row.cpu_ms['wrk']:.2f})"
        for row in rows
        if row.cpu_ms
    ]
    cpu_heading = (
        "CPU ms = machine CPU per request (per settled checkout, per settled charge) of "
        "gunicorn, the worker, PostgreSQL and Redis, by group:"
    )
    return "\n".join(lines + [""] + notes + ["", cpu_heading, *cpu_lines])


def main() -> int:
    global WRK
    unknown = sorted(set(ROWS) - set(ROW_KEYS))
    if unknown:
        print(
            f"make bench: BENCH_ROWS names no such row: {', '.join(unknown)} "
            f"(rows: {', '.join(ROW_KEYS)})",
            file=sys.stderr,
        )
        return 2
    try:
        WRK = ensure_wrk()
    except BenchError as exc:
        print(f"make bench: {exc}", file=sys.stderr)
        return 2
    stack = Stack()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the finally below
    try:
        rows = run(stack)
    except BenchError as exc:
        print(f"make bench: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("make bench: interrupted; cleaning up", file=sys.stderr)
        return 130
    finally:
        stack.teardown()
    minutes = (time.monotonic() - STARTED) / 60
    print(
        f"\nmake bench, {time.strftime('%Y-%m-%d %H:%M %Z')}, {minutes:.1f} min in all: gunicorn "
        f"{GUNICORN_WORKERS} sync workers and 1 Celery worker (concurrency {WORKER_CONCURRENCY}) "
        f"on production settings, PostgreSQL, Redis; wrk for {SECONDS:g} s per row after "
        f"{WARMUP:g} s of warm-up.\n"
        f"ratio = req/s / ref req/s, the mean of the trivial DRF APIView measured "
        f"({REF_SECONDS:g} s) just before and just after the row. SQL/req = statements per "
        f"request in-process, + Nw: statements of "
        f"the tasks it queues, run by the worker.\n"
    )
    print(table(rows))
    return 0


WRK = "wrk"

if __name__ == "__main__":
    sys.exit(main())

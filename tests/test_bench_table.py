"""make bench's own arithmetic: verdicts for the rows asked for, and CPU per unit by process."""

import subprocess
import sys

import pytest

run = pytest.importorskip("bench.run")
cpu = pytest.importorskip("bench.cpu")


def row(key, per_second, reference, **extra):
    return run.Row(
        key, key, 8, per_second=per_second, reference=reference, non2xx=0, p50_ms=10.0, **extra
    )


def test_a_partial_run_judges_only_the_rows_it_measured():
    rows = {
        "post_spread": row("post_spread", 300.0, 2000.0),
        "checkout": row("checkout", 40.0, 2000.0),
    }
    judged = run.judge(rows)
    assert [r.key for r in judged] == ["post_spread", "checkout"]
    assert [r.verdict for r in judged] == ["yes", "NO"]  # 0.150 ≥ 0.15; 0.020 < 0.05


def test_the_one_product_row_is_judged_against_the_spread_row():
    rows = {
        "post_spread": row("post_spread", 300.0, 2000.0),
        "post_same": row("post_same", 230.0, 2000.0),
    }
    run.judge(rows)
    assert rows["post_same"].verdict == "NO"  # 0.77 × spread
    assert "0.77 ×" in rows["post_same"].target


def test_a_large_list_run_alone_is_judged_on_its_own_bound():
    rows = {"list_large": row("list_large", 400.0, 2000.0)}
    run.judge(rows)
    assert rows["list_large"].verdict == "yes"  # 0.20, latency not compared
    assert "list_small was not run" in rows["list_large"].target


def test_an_unknown_row_name_stops_the_bench_before_it_starts(monkeypatch, capsys):
    monkeypatch.setattr(run, "ROWS", ["post_spread", "chekout"])
    assert run.main() == 2
    assert "no such row: chekout" in capsys.readouterr().err


def test_cpu_per_unit_divides_each_group_and_the_total_leaves_wrk_out():
    before = {"gunicorn": 1.0, "worker": 2.0, "postgres": 3.0, "redis": 4.0, "wrk": 5.0}
    after = {"gunicorn": 1.6, "worker": 2.2, "postgres": 3.3, "redis": 4.1, "wrk": 6.0}
    per = cpu.per_unit(before, after, 100)
    assert per == pytest.approx(
        {"gunicorn": 6.0, "worker": 2.0, "postgres": 3.0, "redis": 1.0, "wrk": 10.0}
    )
    assert cpu.service_total(per) == pytest.approx(12.0)
    assert cpu.per_unit(before, after, 0) is None


def test_the_table_shows_cpu_per_unit_and_its_split():
    measured = row("post_spread", 300.0, 2000.0)
    measured.cpu_ms = {"gunicorn": 6.0, "worker": 0.2, "postgres": 1.5, "redis": 0.1, "wrk": 0.2}
    text = run.table(run.judge({"post_spread": measured}))
    header, _, line = text.splitlines()[:3]
    cells = [cell.strip() for cell in line.strip("|").split("|")]
    names = [cell.strip() for cell in header.strip("|").split("|")]
    assert cells[names.index("CPU ms")] == "7.80"
    assert "post_spread: gunicorn 6.00, worker 0.20, postgres 1.50, redis 0.10 (wrk 0.20)" in text


BURN = "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass"
# A stand-in for a gunicorn master: on "go" it runs a child that burns CPU and exits, reaps it,
# says "done" and stays alive, as a master that replaced a worker does.
MASTER = (
    "import subprocess, sys\n"
    "sys.stdin.readline()\n"
    f"subprocess.run([sys.executable, '-c', {BURN!r}], check=True)\n"
    "print('done', flush=True)\n"
    "sys.stdin.readline()\n"
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_web_child_that_exited_between_two_readings_is_still_counted():
    master = subprocess.Popen(
        [sys.executable, "-c", MASTER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        before = cpu.read({master.pid}, set())
        master.stdin.write("go\n")
        master.stdin.flush()
        assert master.stdout.readline().strip() == "done"
        after = cpu.read({master.pid}, set())
    finally:
        master.communicate("bye\n", timeout=10)
    assert after["gunicorn"] - before["gunicorn"] >= 0.25
    assert after["worker"] == before["worker"] == 0.0


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_finished_child_of_ours_is_counted_as_the_load_generator():
    before = cpu.read(set(), set())
    subprocess.run([sys.executable, "-c", BURN], check=True)
    after = cpu.read(set(), set())
    assert set(after) == {*cpu.GROUPS, "wrk"}
    assert after["wrk"] - before["wrk"] >= 0.25

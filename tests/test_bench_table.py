"""make bench's own arithmetic: verdicts for the rows asked for, and CPU per unit by process."""

import subprocess
import sys

import pytest

run = pytest.importorskip("bench.run")


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


def test_cpu_per_unit_divides_each_group_and_the_total_leaves_wrk_out():
    before = {"gunicorn": 1.0, "worker": 2.0, "postgres": 3.0, "redis": 4.0, "wrk": 5.0}
    after = {"gunicorn": 1.6, "worker": 2.2, "postgres": 3.3, "redis": 4.1, "wrk": 6.0}
    per = run.cpu_per_unit(before, after, 100)
    assert per == pytest.approx(
        {"gunicorn": 6.0, "worker": 2.0, "postgres": 3.0, "redis": 1.0, "wrk": 10.0}
    )
    assert run.cpu_total(per) == pytest.approx(12.0)
    assert run.cpu_per_unit(before, after, 0) is None


def test_the_table_shows_cpu_per_unit_and_its_split():
    measured = row("post_spread", 300.0, 2000.0)
    measured.cpu_ms = {"gunicorn": 6.0, "worker": 0.2, "postgres": 1.5, "redis": 0.1, "wrk": 0.2}
    text = run.table(run.judge({"post_spread": measured}))
    header, _, line = text.splitlines()[:3]
    cells = [cell.strip() for cell in line.strip("|").split("|")]
    names = [cell.strip() for cell in header.strip("|").split("|")]
    assert cells[names.index("CPU ms")] == "7.80"
    assert "post_spread: gunicorn 6.00, worker 0.20, postgres 1.50, redis 0.10 (wrk 0.20)" in text


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_machine_cpu_counts_a_finished_child_as_the_load_generator(tmp_path):
    stack = run.Stack(logs=tmp_path)  # started nothing: no web, no worker
    before = run.machine_cpu(stack)
    burn = "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass"
    subprocess.run([sys.executable, "-c", burn], check=True)
    after = run.machine_cpu(stack)
    assert set(after) == {*run.CPU_GROUPS, "wrk"}
    assert after["wrk"] - before["wrk"] >= 0.25
    assert all(after[group] >= before[group] for group in run.CPU_GROUPS)

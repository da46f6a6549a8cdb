"""Smoke test of the benchmark suite: it runs and prints its table (timings are not checked)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEADER = "| workload | engine | median | min-max | rounds |"
NO_DBOS = pytest.mark.skipif(
    importlib.util.find_spec("dbos") is None,
    reason="dbos is not installed (pip install -e '.[bench]'); only the DBOS rows need it",
)


def _finish(*args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--rounds", "1", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _run(*args: str, timeout: float = 90) -> str:
    done = _finish(*args, timeout=timeout)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _results(out: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in out.splitlines()]
    return [line for line in lines if line["type"] == "result"]


def _show(url: str, name: str) -> str:
    import psycopg

    with psycopg.connect(url) as conn:
        row = conn.execute(f"SHOW {name}").fetchone()
    assert row is not None
    return str(row[0])


def test_floor_table_prints_header_and_both_synchronous_rows() -> None:
    out = _run("--only", "L")
    assert HEADER in out
    assert "floor: sqlite3 WAL, synchronous=NORMAL" in out
    assert "floor: sqlite3 WAL, synchronous=FULL" in out
    assert "n/a" not in out


def test_json_lines_carry_the_machine_and_one_result_per_row() -> None:
    lines = [json.loads(line) for line in _run("--only", "L", "--json").splitlines()]
    assert lines[0]["type"] == "machine"
    assert [line["engine"] for line in lines[1:]] == ["floor-sqlite-normal", "floor-sqlite-full"]
    assert all(line["median"] > 0 for line in lines[1:])


def test_w5_and_w2w_run_through_a_live_stackflow_worker() -> None:
    """Each execution must be run by the worker process (its result carries the worker's pid)."""
    results = _results(_run("--only", "W5,W2W", "--engine", "stackflow", "--json"))
    assert [(r["workload"], r["engine"]) for r in results] == [
        ("W2W", "stackflow"),
        ("W5", "stackflow"),
    ]
    assert all(r["error"] is None and r["median"] > 0 for r in results), results
    w5 = next(r for r in results if r["workload"] == "W5")
    assert w5["unit"] == "ms p50"
    assert any(note.startswith("p90 ") and "p99 " in note for note in w5["notes"])
    assert any("stackflow worker process" in note for note in w5["notes"])


def test_w5h_runs_on_a_store_holding_a_history_on_both_backends(postgres_url: str) -> None:
    """W5H's store holds the finished executions written before the worker started."""
    args = ("--only", "W5H", "--engine", "stackflow,stackflow-pg", "--postgres", postgres_url)
    results = _results(_run(*args, "--json", timeout=180))
    assert [(r["workload"], r["engine"], r["error"]) for r in results] == [
        ("W5H", "stackflow", None),
        ("W5H", "stackflow-pg", None),
    ]
    for result in results:
        assert result["unit"] == "ms p50" and result["median"] > 0
        assert "the store held 1,000 finished executions before" in result["notes"]


def test_postgres_rows_show_the_server_settings_and_its_cost(postgres_url: str) -> None:
    out = _run("--only", "W2W", "--engine", "stackflow-pg", "--postgres", postgres_url)
    fsync, commit = _show(postgres_url, "fsync"), _show(postgres_url, "synchronous_commit")
    assert f"with fsync={fsync}, synchronous_commit={commit}," in out.splitlines()[0]
    row = "| W2W (N=10) | stackflow (PostgreSQL) |"
    throughput, server = (line for line in out.splitlines() if line.startswith(row))
    assert "executions/s" in throughput and "n/a" not in throughput
    write_transactions, wal_bytes, wal_records = (float(c) for c in server.split("|")[3:6])
    assert write_transactions >= 1 and wal_bytes > 0 and wal_records >= 1


def test_baseline_adds_rows_measured_from_the_other_commit() -> None:
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    out = _run("--only", "W2", "--engine", "stackflow", "--baseline", "HEAD")
    baseline = next(line for line in out.splitlines() if f"| stackflow@{commit} (SQLite" in line)
    current = next(line for line in out.splitlines() if "| stackflow (SQLite" in line)
    assert "n/a" not in baseline and "n/a" not in current
    assert f"than stackflow@{commit} (executions/s " in current
    assert f"Baseline: stackflow@{commit} (" in out
    worktrees = subprocess.run(
        ["git", "worktree", "list"], cwd=ROOT, capture_output=True, text=True
    ).stdout
    assert f"stackflow@{commit}" not in worktrees


def test_a_baseline_that_is_no_commit_is_a_usage_error() -> None:
    done = _finish("--only", "W2", "--baseline", "no-such-revision-anywhere")
    assert done.returncode == 2
    assert "--baseline: 'no-such-revision-anywhere' is not a commit of" in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout == ""


def test_postgres_up_durable_keeps_the_durable_defaults(postgres_url: str, tmp_path: Path) -> None:
    """The benchmarks' cluster: fsync and synchronous_commit stay on (the test one has them off)."""
    env = {**os.environ, "STACKFLOW_POSTGRES_STATE": str(tmp_path / "state")}
    up = subprocess.run(
        [str(ROOT / "scripts" / "postgres-up"), "--durable"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    try:
        assert up.returncode == 0, up.stderr
        url = up.stdout.strip()
        for name in ("fsync", "synchronous_commit", "full_page_writes"):
            assert _show(url, name) == "on"
    finally:
        subprocess.run([str(ROOT / "scripts" / "postgres-down")], env=env, check=True)


@NO_DBOS
def test_dbos_row_is_measured() -> None:
    out = _run("--only", "W4", "--engine", "dbos")
    row = next(line for line in out.splitlines() if "DBOS 3.4.0 default" in line)
    assert "n/a" not in row


@NO_DBOS
def test_dbos_w5_goes_through_a_separate_dbos_process() -> None:
    results = _results(_run("--only", "W5", "--engine", "dbos-wal", "--json", timeout=120))
    assert [(r["workload"], r["engine"], r["error"]) for r in results] == [("W5", "dbos-wal", None)]
    assert any("separate DBOS process" in note for note in results[0]["notes"])


def test_w1_runs_with_and_without_opentelemetry_in_one_table() -> None:
    out = _run("--only", "W1", "--engine", "stackflow,stackflow-otel", "--json")
    results = {r["engine"]: r for r in _results(out) if r["workload"] == "W1"}
    assert set(results) == {"stackflow", "stackflow-otel"}
    assert all(r["error"] is None and r["median"] > 0 for r in results.values())
    table = _run("--only", "W1", "--engine", "stackflow,stackflow-otel")
    assert "| stackflow traced (OpenTelemetry SDK, batch export; SQLite, NORMAL) |" in table

"""Smoke test of the benchmark suite: it runs and prints its table (timings are not checked)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEADER = "| workload | engine | median | min-max | rounds |"


def _run(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--rounds", "1", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


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


@pytest.mark.skipif(
    importlib.util.find_spec("dbos") is None,
    reason="dbos is not installed (pip install -e '.[bench]'); only the DBOS rows need it",
)
def test_dbos_row_is_measured() -> None:
    out = _run("--only", "W4", "--engine", "dbos")
    row = next(line for line in out.splitlines() if "DBOS 3.4.0 default" in line)
    assert "n/a" not in row

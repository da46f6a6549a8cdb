"""The instruction-count benchmark: callgrind's totals, their differences, and the table."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from benchmarks import callgrind

ROOT = Path(__file__).resolve().parents[2]
MISSING = "valgrind not found: run scripts/valgrind-up (it installs Debian's valgrind)"


def _require_valgrind() -> None:
    """Skip (fail in CI) when valgrind is not installed."""
    if shutil.which("valgrind") is not None:
        return
    if os.environ.get("CI", "").lower() in ("true", "1"):
        pytest.fail(f"CI=true but {MISSING}")
    pytest.skip(MISSING)


def _instructions(*args: str, path: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": path} if path is not None else None
    return subprocess.run(
        [sys.executable, "-m", "benchmarks.instructions", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=550,
        check=False,
        env=env,
    )


def _loop(n: int) -> int:
    """The instructions of a bare interpreter running an empty loop of n turns.

    The hash seed is fixed, as the benchmark fixes it: with a random seed the interpreter's
    start-up alone varies by millions of instructions. (`-I` would ignore PYTHONHASHSEED; the
    environment is empty instead, so no other PYTHON* variable reaches the interpreter.)
    """
    snippet = f"for _ in range({n}): pass"
    env = {"PYTHONHASHSEED": "0"}
    counted = callgrind.count(["-s", "-S", "-c", snippet], cwd=ROOT, env=env, timeout_seconds=60)
    return counted.instructions


def test_the_difference_of_two_counted_runs_is_what_the_extra_work_executed() -> None:
    """Twice the loop costs twice the instructions, once the shared start-up is subtracted."""
    _require_valgrind()
    with ThreadPoolExecutor(max_workers=2) as pool:
        none, once, twice = pool.map(_loop, (0, 50_000, 100_000))
    assert none > 1_000_000
    one_loop, two_loops = once - none, twice - none
    assert one_loop > 50_000
    assert abs(two_loops - 2 * one_loop) < 0.01 * two_loops


def test_output_without_a_callgrind_total_is_an_error() -> None:
    with pytest.raises(callgrind.CallgrindError, match="no callgrind total in the output: boom"):
        callgrind.collected("==12== Events    : Ir\nboom\n==12== \n")
    assert callgrind.collected("==12== Events    : Ir\n==12== Collected : 140491692\n") == (
        140491692
    )


def test_without_valgrind_the_command_names_the_package_and_exits_2() -> None:
    done = _instructions("--only", "W1", path=str(Path(sys.executable).parent) + ":/nonexistent")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "python -m benchmarks.instructions: error: valgrind is not installed: "
        "install it (Debian: apt-get install valgrind)"
    ]
    assert done.stdout == ""


def test_a_baseline_that_is_no_commit_is_an_error() -> None:
    _require_valgrind()
    done = _instructions("--only", "W1", "--baseline", "no-such-revision-anywhere")
    assert done.returncode == 2
    assert "--baseline: 'no-such-revision-anywhere' is not a commit of" in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout == ""


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_w1_on_this_tree_prints_a_positive_count_per_child() -> None:
    _require_valgrind()
    done = _instructions("--only", "W1", "--n", "20")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("Counted ") and "with valgrind-" in lines[0]
    row = next(line for line in lines if line.startswith("| W1 (N=20) | stackflow |"))
    count, unit = row.split("|")[3].split()[0], row.split("|")[3].split(" / ")[1].strip()
    assert unit == "child"
    assert count[-1] == "k" and float(count[:-1]) > 0
    assert row.endswith("| — |")


def test_the_table_compares_this_tree_with_the_baseline() -> None:
    """Rendered from two measurements, as the command renders what it counted."""
    from benchmarks.instruction_table import json_lines, markdown
    from benchmarks.instructions import Measurement, Tree

    mine = Measurement("W1", 1000, Tree("stackflow", ROOT), instructions=317_000_000)
    theirs = Measurement("W1", 1000, Tree("stackflow@abc1234", ROOT), instructions=320_000_000)
    machine = {"date": "today", "valgrind": "valgrind-3", "python": "3", "sqlite": "3"}
    table = markdown(machine | {"stackflow": "0.1.0"}, [mine, theirs]).splitlines()
    assert table[-2:] == [
        "| W1 (N=1000) | stackflow | 317k / child | -0.9 % |",
        "| W1 (N=1000) | stackflow@abc1234 | 320k / child | — |",
    ]
    lines = [json.loads(line) for line in json_lines(machine, [mine, theirs]).splitlines()]
    assert lines[1]["instructions_per_unit"] == 317_000
    assert lines[2]["vs_baseline_percent"] is None

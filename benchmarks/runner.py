"""Run the measurement cells: one subprocess per (row, cell, round), rounds alternating the rows."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks import checkouts, processes
from benchmarks.spec import Row, Task, applies

DEFAULT_TIMEOUT_SECONDS = 900.0


@dataclass
class Cell:
    """Every round measured for one row on one task."""

    values: list[float] = field(default_factory=list)
    details: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0


@dataclass(frozen=True)
class Settings:
    """How the runs are made."""

    rounds: int
    budget_seconds: float
    synchronous: str
    postgres_url: str | None
    harness: Path
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS


def run_once(row: Row, task: Task, settings: Settings) -> dict[str, Any]:
    """Measure one round in a fresh interpreter and return its JSON line as a dict.

    The interpreter imports stackflow from the row's tree (this one, or a baseline checkout).
    """
    command = [sys.executable, "-m", "benchmarks.run_one", "--engine", row.measures]
    command += ["--workload", task.kind, "--n", str(task.n), "--synchronous", settings.synchronous]
    if settings.postgres_url:
        command += ["--postgres", settings.postgres_url]
    env = processes.child_environment()
    env["PYTHONPATH"] = row.checkout or str(checkouts.ROOT)
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=settings.timeout_seconds,
            check=False,
            cwd=settings.harness,
            env=env,
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {settings.timeout_seconds:.0f} s"}
    for line in reversed(done.stdout.splitlines()):
        if line.startswith("{"):
            return _checked_tree(row, dict(json.loads(line)))
    last = (done.stderr.strip().splitlines() or ["no output"])[-1]
    return {"error": f"exit {done.returncode}: {last[:160]}"}


def _checked_tree(row: Row, line: dict[str, Any]) -> dict[str, Any]:
    """The line, or an error if the stackflow measured was not the row's own tree."""
    expected = Path(row.checkout or checkouts.ROOT).resolve()
    tree = line.get("stackflow_tree")
    if tree is not None and Path(tree) != expected and "error" not in line:
        return {"error": f"measured the stackflow of {tree}, not of {expected}"}
    return line


def _wanted(cell: Cell, round_index: int, settings: Settings) -> bool:
    if round_index == 0:
        return True
    return not cell.errors and cell.seconds < settings.budget_seconds


def run_all(
    tasks: list[Task],
    rows: list[Row],
    settings: Settings,
    progress: Callable[[str], None],
) -> dict[tuple[Task, str], Cell]:
    """Measure every (task, row) for `settings.rounds` rounds, rotating the row order each round.

    After the first round, a cell that failed or has used up `budget_seconds`
    gets no more rounds, so the slowest rows cannot stretch the suite.
    """
    cells: dict[tuple[Task, str], Cell] = {}
    for round_index in range(settings.rounds):
        for task in tasks:
            takers = [r for r in rows if applies(r, task.kind)]
            shift = round_index % max(1, len(takers))
            for row in takers[shift:] + takers[:shift]:
                cell = cells.setdefault((task, row.key), Cell())
                if not _wanted(cell, round_index, settings):
                    continue
                started = time.perf_counter()
                line = run_once(row, task, settings)
                cell.seconds += time.perf_counter() - started
                _record(cell, line)
                shown = line.get("error") or f"{line['value']:.1f}"
                progress(
                    f"round {round_index + 1}/{settings.rounds}  {task.kind} n={task.n}  "
                    f"{row.key}: {shown}  ({cell.seconds:.1f} s)"
                )
    return cells


def _record(cell: Cell, line: dict[str, Any]) -> None:
    if "error" in line:
        cell.errors.append(str(line["error"]))
    else:
        cell.values.append(float(line["value"]))
        cell.details.append(dict(line.get("details", {})))

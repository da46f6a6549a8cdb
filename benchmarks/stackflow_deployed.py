"""W5 and W2W for stackflow as deployed: this process is the client, one `stackflow worker` runs.

The worker is `python -m stackflow worker` with default settings, started on a
throwaway project (the workflow files of `deployed_workflows/`) whose database
is fresh. Every workflow returns the id of the process that ran it, so a run
that the client ran itself (no live worker seen) is an error, not a figure.
"""

from __future__ import annotations

import re
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks import history, pg, pg_cost, processes, spec
from benchmarks.stats import percentiles

WORKFLOW_FILES = Path(__file__).resolve().parent / "deployed_workflows"
CHILDREN = 5


def _write_project(root: Path, database: str, synchronous: str) -> Path:
    (root / "workflows").mkdir(parents=True)
    for source in sorted(WORKFLOW_FILES.glob("*.py")):
        shutil.copy(source, root / "workflows" / source.name)
    config = f'name = "bench"\ndatabase = "{database}"\n[workflow]\nfiles = ["workflows/*.py"]\n'
    if synchronous != "NORMAL":  # NORMAL is the default: leave the project at its defaults
        config += f'[engine]\nsqlite_synchronous = "{synchronous}"\n'
    (root / "stackflow.toml").write_text(config)
    return root / "stackflow.toml"


def _check(execution: Any, expected: dict[str, Any]) -> None:
    if execution.status != "SUCCESS" or execution.result != expected:
        got = execution.result if execution.status == "SUCCESS" else execution.error
        raise AssertionError(f"execution ended {execution.status}: {got!r}, expected {expected!r}")


def _w5(engine: Any, n: int, worker_pid: int) -> dict[str, Any]:
    samples = []
    for i in range(n):
        started = time.perf_counter()
        execution = engine.wait(engine.start("echo", {"i": i}))
        samples.append((time.perf_counter() - started) * 1e3)
        _check(execution, {"i": i, "pid": worker_pid})
    p50, p90, p99 = percentiles(samples, (50, 90, 99))
    return {"value": p50, "details": {"p90_ms": p90, "p99_ms": p99}}


def _w2w(engine: Any, n: int, worker_pid: int) -> dict[str, Any]:
    started = time.perf_counter()
    ids = [engine.start("many", {"k": k}) for k in range(n)]
    executions = [engine.wait(execution_id) for execution_id in ids]
    elapsed = time.perf_counter() - started
    for execution in executions:
        _check(execution, {"done": CHILDREN, "pid": worker_pid})
    return {"value": n / elapsed}


_WORKLOADS = {"W5": _w5, "W5H": _w5, "W2W": _w2w}


def _announced_concurrency(ready_line: str) -> str | None:
    found = re.search(r"concurrency (\d+)", ready_line)
    return found.group(1) if found else None


def run(
    workload: str, n: int, directory: Path, *, synchronous: str, postgres_url: str | None = None
) -> dict[str, Any]:
    """Run W5, W5H or W2W once through a fresh worker process on a fresh database."""
    from stackflow import Engine  # imported here: a missing engine makes this row n/a

    measure = _WORKLOADS[workload]
    with pg.fresh_store(directory, postgres_url, "state.db") as (url, note):
        config = _write_project(directory / "project", url, synchronous)
        engine = Engine.from_config(config)
        try:
            engine.list_executions()  # open and migrate the store before the worker starts
            held = None
            if workload == "W5H":
                quick = n <= spec.WORKLOADS["W5H"].quick_n  # --quick: a smaller history
                held = history.fill(url, history.QUICK_HISTORY if quick else history.HISTORY)
            command = [sys.executable, "-m", "stackflow", "worker"]
            log = directory / "worker.log"
            with processes.serving(
                "stackflow worker", command, cwd=config.parent, log=log, ready_marker=" started"
            ) as worker:
                measure(engine, 1, worker.pid)  # warm-up: proves the worker runs the executions
                cost_url = url if postgres_url and workload == "W2W" else None
                measured = pg_cost.measure(cost_url, n, lambda: measure(engine, n, worker.pid))
        finally:
            engine.close()
    details = measured.setdefault("details", {})
    details.update(database=note, workers=1)
    if held is not None:
        details["history"] = held
    details["worker_concurrency"] = _announced_concurrency(worker.ready_line)
    return measured

"""A stale run's cleanup never untracks the live run of the same execution."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from commands import stackflow, wait_until
from reliability_kit import Workers, store_execute, store_rows, write_project

FLOW = """
import os
import time
from pathlib import Path

from stackflow import create_workflow, create_workflow_job

def _slow(input, ctx):
    marks = Path(os.environ["HELD_MARKS"])
    (marks / f"slow-{ctx.attempt}").write_text(str(os.getpid()))
    time.sleep(4 if ctx.attempt == 1 else 10)
    return {"attempt": ctx.attempt}

slow = create_workflow_job(name="slow", body=_slow)

def _main(input, ctx):
    return ctx.jobs.slow({})

main = create_workflow_job(name="main", body=_main, deps=[slow])
workflow = create_workflow(name="held", main_job=main)
"""

LEASE_SECONDS = 2.0


def _fence(url: str, execution_id: str) -> int:
    return int(store_rows(url, "SELECT fence FROM executions WHERE id = ?", (execution_id,))[0][0])


def _status(url: str, execution_id: str) -> str:
    return str(store_rows(url, "SELECT status FROM executions WHERE id = ?", (execution_id,))[0][0])


def _reclaimed(url: str, execution_id: str) -> bool:
    """Expire the lease by hand; true once the worker has claimed the execution again."""
    if _fence(url, execution_id) >= 2:
        return True
    store_execute(url, "UPDATE executions SET lease_expires_at = 0 WHERE id = ?", (execution_id,))
    return False


@pytest.mark.slow
def test_the_live_run_keeps_its_lease_after_the_stale_run_ends(
    tmp_path: Path, store_url: str, workers: Workers
) -> None:
    root = write_project(
        tmp_path, store_url, {"held.py": FLOW}, f"[engine]\nlease_seconds = {LEASE_SECONDS}\n"
    )
    marks = tmp_path / "marks"
    marks.mkdir()
    worker = workers.start(root, HELD_MARKS=str(marks))
    started = stackflow(root, "workflow", "start", "held", "-m", "admin", "-j")
    execution_id = started.json()["executionId"]
    wait_until((marks / "slow-1").exists, 30.0, "the first run's slow job to start")
    time.sleep(1.5)  # a heartbeat records the running job

    wait_until(lambda: _reclaimed(store_url, execution_id), 10.0, "the worker to claim it again")
    wait_until((marks / "slow-2").exists, 10.0, "the second run's slow job to start")

    fences = set()
    while _status(store_url, execution_id) == "RUNNING" and (marks / "slow-2").exists():
        fences.add(_fence(store_url, execution_id))
        if len(fences) > 1 or max(fences) > 2:
            break
        time.sleep(0.1)
    assert fences == {2}, f"claimed again while the second run was live: fences {sorted(fences)}"
    wait_until(lambda: _status(store_url, execution_id) == "SUCCESS", 30.0, "the execution to end")
    assert "Traceback" not in worker.text()

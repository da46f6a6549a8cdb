"""A bad schedule never stops a worker from serving everything else."""

from __future__ import annotations

import textwrap
import time
from pathlib import Path

import pytest
from commands import stackflow, wait_until
from reliability_kit import Workers, write_project

FLOWS = {
    "hello.py": """
        from stackflow import create_workflow, create_workflow_job

        def _hello(input):
            return {"hello": input.get("name", "world")}

        hello = create_workflow_job(name="hello", body=_hello)
        workflow = create_workflow(name="hello", main_job=hello)
        """,
    "ticking.py": """
        from stackflow import create_schedule, create_workflow, create_workflow_job

        def _tick(input):
            return input

        tick = create_workflow_job(name="tick", body=_tick)
        workflow = create_workflow(name="ticking", main_job=tick)
        SCHEDULE
        """,
}

RAISING_ARGS = """
def _args(at):
    raise RuntimeError("the args function exploded")

every_second = create_schedule(
    "every-second", "* * * * * *", workflow=workflow, args=_args, machine_user="admin"
)
"""

UNKNOWN_USER = """
every_second = create_schedule(
    "every-second", "* * * * * *", workflow=workflow, machine_user="nobody"
)
"""

SERVE_SECONDS = 20.0


def _project(root: Path, url: str, schedule: str) -> Path:
    ticking = textwrap.dedent(FLOWS["ticking.py"]).replace("SCHEDULE", schedule.strip())
    flows = {**FLOWS, "ticking.py": ticking}
    return write_project(root, url, flows)


def _status(root: Path, execution_id: str) -> str:
    done = stackflow(root, "workflow", "executions", execution_id, "-j")
    return str(done.json()["status"]) if done.code == 0 else f"exit {done.code}"


def _start_hello(root: Path) -> str:
    done = stackflow(root, "workflow", "start", "hello", "-m", "admin", "-a", "{}", "-j")
    assert done.code == 0, done.stderr
    return str(done.json()["executionId"])


@pytest.mark.slow
def test_a_raising_schedule_does_not_stop_the_worker(
    tmp_path: Path, store_url: str, workers: Workers
) -> None:
    root = _project(tmp_path, store_url, RAISING_ARGS)
    worker = workers.start(root)
    time.sleep(2.5)  # two ticks fail

    execution_id = _start_hello(root)
    wait_until(
        lambda: _status(root, execution_id) == "SUCCESS" or worker.process.poll() is not None,
        SERVE_SECONDS,
        "the worker to run an ordinary execution",
    )
    assert worker.process.poll() is None, worker.text()
    assert _status(root, execution_id) == "SUCCESS"
    assert "the args function exploded" in worker.text()
    assert "Traceback" not in worker.text()


@pytest.mark.slow
def test_a_failing_tick_shows_in_schedule_list(
    tmp_path: Path, store_url: str, workers: Workers
) -> None:
    root = _project(tmp_path, store_url, RAISING_ARGS)
    workers.start(root)
    time.sleep(3.0)  # a few ticks fail
    listed = stackflow(root, "schedule", "list", "-j")
    assert listed.code == 0, listed.stderr
    [row] = listed.json()
    assert row["lastError"] == "RuntimeError: the args function exploded"
    assert row["lastErrorAt"].endswith("Z")
    table = stackflow(root, "schedule", "list")
    assert "lastError" in table.stdout and "the args function exploded" in table.stdout


def test_check_reports_a_schedule_s_unknown_machine_user(tmp_path: Path, sqlite_url: str) -> None:
    root = _project(tmp_path, sqlite_url, UNKNOWN_USER)

    done = stackflow(root, "check")

    assert done.code == 1, done.stdout + done.stderr
    report = done.stdout + done.stderr
    assert "every-second" in report and "nobody" in report
    assert "Traceback" not in report


@pytest.mark.slow
def test_a_schedule_s_unknown_machine_user_never_blocks_claims(
    tmp_path: Path, store_url: str, workers: Workers
) -> None:
    """The project is refused at load, by start and by the worker alike, with the breach in
    one line; nothing already in the store is touched, and once fixed the worker serves it."""
    root = _project(tmp_path, store_url, "")
    execution_id = _start_hello(root)  # started before the bad schedule was written
    root = _project(tmp_path, store_url, UNKNOWN_USER)

    refused = stackflow(root, "workflow", "start", "hello", "-m", "admin", "-a", "{}")
    assert refused.code == 2 and "'nobody'" in refused.stderr
    worker = workers.start(root)
    assert worker.process.wait(SERVE_SECONDS) == 2
    assert "'nobody'" in worker.text() and "Traceback" not in worker.text()
    assert _status(root, execution_id) == "PENDING"

    root = _project(tmp_path, store_url, "")
    workers.start(root)
    wait_until(lambda: _status(root, execution_id) == "SUCCESS", SERVE_SECONDS, "the execution")

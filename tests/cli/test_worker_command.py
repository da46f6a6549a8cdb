"""`stackflow worker` in the background: it runs what `start` leaves, and SIGTERM drains it."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_helpers import ORDER, Run, popen_stackflow

SLOW_FETCH = '''\
"""fetch-customer, slow."""

import time

from stackflow import create_workflow_job


def _fetch(input):
    time.sleep(1.0)
    return {"id": input["customerId"], "email": "slow@example.com"}


fetch_customer = create_workflow_job(name="fetch-customer", body=_fetch)
'''


def start_worker(project: Path) -> subprocess.Popen[str]:
    worker = popen_stackflow(project, "worker", "--concurrency", "2")
    assert worker.stderr is not None
    first = worker.stderr.readline()
    assert " started " in first, first
    return worker


def stop_worker(worker: subprocess.Popen[str]) -> str:
    worker.send_signal(signal.SIGTERM)
    _, err = worker.communicate(timeout=20)
    assert worker.returncode == 0, err
    return err


@pytest.fixture
def worker(project: Path) -> Iterator[subprocess.Popen[str]]:
    running = start_worker(project)
    yield running
    if running.poll() is None:
        running.kill()
        running.communicate()


def test_worker_runs_what_start_leaves_and_stops_on_sigterm(
    run: Run, worker: subprocess.Popen[str]
) -> None:
    started = run("workflow", "start", "order-processing", "-m", "admin", "-a", ORDER, "-j")
    assert started.code == 0, started.stderr
    execution_id = started.json()["executionId"]
    assert "No worker is running" not in started.stderr

    followed = run("workflow", "executions", execution_id, "-W", "-i", "100ms", "-j")

    assert followed.code == 0, followed.stderr
    assert followed.json()["status"] == "SUCCESS"
    assert "No worker is running" not in followed.stderr
    log = stop_worker(worker)
    assert f"{execution_id} order-processing RUNNING" in log
    assert f"{execution_id} order-processing SUCCESS" in log
    assert "Traceback" not in log

    after = run("workflow", "start", "order-processing", "-m", "admin", "-a", ORDER)
    assert "No worker is running" in after.stderr  # the worker unregistered itself


def test_sigterm_lets_the_running_execution_finish(
    run: Run, project: Path, worker: subprocess.Popen[str]
) -> None:
    (project / "workflows" / "jobs" / "fetch_customer.py").write_text(SLOW_FETCH)
    # the worker imported the old file already; a new worker sees the slow one
    stop_worker(worker)
    slow_worker = start_worker(project)
    try:
        started = run("workflow", "start", "order-processing", "-m", "admin", "-a", ORDER, "-j")
        execution_id = started.json()["executionId"]
        assert slow_worker.stderr is not None
        line = slow_worker.stderr.readline()
        assert f"{execution_id} order-processing RUNNING" in line

        log = stop_worker(slow_worker)
    finally:
        if slow_worker.poll() is None:
            slow_worker.kill()

    assert f"{execution_id} order-processing SUCCESS" in log
    detail = run("workflow", "executions", execution_id, "-j").json()
    assert detail["status"] == "SUCCESS"


NAP_WORKFLOW = """\
import time

from stackflow import create_workflow, workflow_job


@workflow_job("nap")
def nap(input):
    time.sleep(30)
    return {}


workflow = create_workflow(name="nap", main_job=nap)
"""


def test_second_signal_releases_the_running_execution(run: Run, project: Path) -> None:
    (project / "workflows" / "nap.py").write_text(NAP_WORKFLOW)
    napping = start_worker(project)
    try:
        started = run("workflow", "start", "nap", "-m", "admin", "-j")
        execution_id = started.json()["executionId"]
        assert napping.stderr is not None
        assert f"{execution_id} nap RUNNING" in napping.stderr.readline()

        napping.send_signal(signal.SIGTERM)
        assert "Stopping" in napping.stderr.readline()
        napping.send_signal(signal.SIGTERM)
        _, log = napping.communicate(timeout=10)
    finally:
        if napping.poll() is None:
            napping.kill()

    assert napping.returncode == 0, log
    assert f"{execution_id} nap RELEASED" in log
    detail = run("workflow", "executions", execution_id, "-j").json()
    assert detail["status"] == "PENDING_RESUME"


def test_worker_rejects_a_bad_concurrency(run: Run) -> None:
    done = run("worker", "--concurrency", "0")
    assert done.code == 2
    assert done.one_error_line() == "Error: --concurrency must be at least 1, got 0."

"""A WAITING execution says what it waits for; a wrong resolve names the right key."""

from __future__ import annotations

from pathlib import Path

import pytest
from commands import stackflow, wait_until
from reliability_kit import Workers, write_project

APPROVAL = """
from stackflow import create_wait_point, create_workflow, create_workflow_job

approval = create_wait_point("order-approval")

def _ask(input):
    return approval.wait({"amount": 42, "currency": "JPY"})

ask = create_workflow_job(name="ask", body=_ask)
workflow = create_workflow(name="approve", main_job=ask)
"""

NAP = """
from stackflow import create_workflow, create_workflow_job

def _nap(input, ctx):
    ctx.sleep(3600)
    return {}

nap = create_workflow_job(name="nap", body=_nap)
workflow = create_workflow(name="nap", main_job=nap)
"""


def _waiting(root: Path, workflow: str) -> str:
    done = stackflow(root, "workflow", "start", workflow, "-m", "admin", "-W", "-j")
    assert done.code == 0, done.stderr
    assert done.json()["status"] == "WAITING"
    return str(done.json()["id"])


def _status(root: Path, execution_id: str) -> str:
    return str(stackflow(root, "workflow", "executions", execution_id, "-j").json()["status"])


@pytest.fixture
def root(tmp_path: Path, store_url: str) -> Path:
    return write_project(tmp_path, store_url, {"approve.py": APPROVAL, "nap.py": NAP})


def test_the_json_view_names_the_wait_point_and_its_payload(root: Path) -> None:
    execution_id = _waiting(root, "approve")

    shown = stackflow(root, "workflow", "executions", execution_id, "-j").json()

    assert shown["waitingFor"] == {
        "key": "order-approval",
        "payload": {"amount": 42, "currency": "JPY"},
    }


def test_the_text_view_names_the_wait_point_and_its_payload(root: Path) -> None:
    execution_id = _waiting(root, "approve")

    shown = stackflow(root, "workflow", "executions", execution_id)

    assert shown.code == 0
    assert "order-approval" in shown.stdout and "42" in shown.stdout


def test_a_durable_sleep_shows_when_it_wakes(root: Path, workers: Workers) -> None:
    started = stackflow(root, "workflow", "start", "nap", "-m", "admin", "-j")
    execution_id = started.json()["executionId"]
    workers.start(root)  # --wait would wait through the sleep: a worker runs it to its sleep
    wait_until(lambda: _status(root, execution_id) == "WAITING", 30.0, "the execution to sleep")

    shown = stackflow(root, "workflow", "executions", execution_id, "-j").json()

    waiting_for = shown.get("waitingFor") or {}
    assert str(waiting_for.get("wakeAt") or shown.get("wakeAt")).endswith("Z")


def test_a_resolve_with_the_wrong_key_names_the_right_one(root: Path) -> None:
    execution_id = _waiting(root, "approve")

    done = stackflow(root, "workflow", "resolve", execution_id, "approval", "-a", "{}")

    assert done.code != 0
    assert "order-approval" in done.one_error_line()

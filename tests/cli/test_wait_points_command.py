"""Wait points, durable sleep and schedules from the command line."""

from __future__ import annotations

import time

from cli_helpers import Run
from commands import stackflow

APPROVAL_FLOW = """
from stackflow import create_schedule, create_wait_point, create_workflow, workflow_job

approval = create_wait_point("manager-approval")


@workflow_job("approve-order")
def approve_order(input, ctx):
    decision = approval.wait({"orderId": input["orderId"]})
    ctx.sleep(1)
    return {"approved": decision["approved"]}


workflow = create_workflow(name="approval", main_job=approve_order)
nightly = create_schedule(
    "nightly-approvals", cron="0 12 * * *", timezone="Asia/Tokyo", workflow=workflow
)
"""


def test_wait_resolve_and_sleep_through_the_cli(project, run: Run):
    (project / "workflows" / "approval.py").write_text(APPROVAL_FLOW)
    started = run(
        "workflow",
        "start",
        "approval",
        "-m",
        "admin",
        "-a",
        '{"orderId": "o9"}',
        "-W",
        "-j",
        "-i",
        "100ms",
    )
    assert started.code == 0, started.stderr
    waiting = started.json()
    assert waiting["status"] == "WAITING"
    assert waiting["waitingFor"] == {"key": "manager-approval", "payload": {"orderId": "o9"}}
    execution_id = waiting["id"]
    shown = run("workflow", "executions", execution_id)
    assert "waitingFor" in shown.stdout and "manager-approval" in shown.stdout
    listed = run("workflow", "executions", "-j").json()
    assert listed[0]["waitingFor"]["key"] == "manager-approval"

    bad = run("workflow", "resolve", execution_id, "other-key", "-a", '{"approved": true}')
    assert bad.code == 1
    assert bad.one_error_line() == (
        f"Error: Execution '{execution_id}' is not waiting at wait point 'other-key'; "
        "it waits at 'manager-approval'."
    )

    resolved = run(
        "workflow", "resolve", execution_id, "manager-approval", "-a", '{"approved": true}', "-j"
    )
    assert resolved.code == 0, resolved.stderr
    assert resolved.json()["status"] == "PENDING_RESUME"
    assert "waitingFor" not in resolved.json()

    again = run(
        "workflow", "resolve", execution_id, "manager-approval", "-a", '{"approved": false}'
    )
    assert again.code == 1 and "already resolved" in again.one_error_line()

    began = time.monotonic()
    done = run("workflow", "wait", execution_id, "-j", "-i", "100ms")
    assert done.code == 0, done.stderr
    assert done.json()["status"] == "SUCCESS"  # the durable sleep was waited through
    assert done.json()["result"] == {"approved": True}
    assert time.monotonic() - began >= 0.9


def test_cancel_a_waiting_execution(project, run: Run):
    (project / "workflows" / "approval.py").write_text(APPROVAL_FLOW)
    waiting = run(
        "workflow",
        "start",
        "approval",
        "-m",
        "admin",
        "-a",
        '{"orderId": "o1"}',
        "-W",
        "-j",
        "-i",
        "100ms",
    )
    execution_id = waiting.json()["id"]
    canceled = run("workflow", "cancel", execution_id, "-j")
    assert canceled.code == 0, canceled.stderr
    assert canceled.json()["status"] == "CANCELED"
    assert canceled.json()["finishedAt"] is not None
    refused = run("workflow", "resume", execution_id)
    assert refused.code == 1 and "is not in a resumable state" in refused.one_error_line()
    listed = run("workflow", "executions", "-s", "canceled", "-j")
    assert [e["id"] for e in listed.json()] == [execution_id]


def test_schedule_list(project, run: Run):
    (project / "workflows" / "approval.py").write_text(APPROVAL_FLOW)
    listed = run("schedule", "list", "-j")
    assert listed.code == 0, listed.stderr
    [row] = listed.json()
    assert row["name"] == "nightly-approvals"
    assert row["workflow"] == "approval"
    assert row["timezone"] == "Asia/Tokyo"
    assert row["nextRunAt"].endswith("T03:00:00.000Z")
    table = stackflow(project, "schedule")
    assert "nightly-approvals" in table.stdout

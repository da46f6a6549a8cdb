"""The TypeScript original's behaviours from the command line: `check` warnings for jobs no
workflow reaches, `wait --until`, `Invalid status` messages, CANCELED job executions, and a
`wait --timeout` that gives the execution back at once."""

from __future__ import annotations

import json
import time
from pathlib import Path

from cli_helpers import ORDER, Run, popen_stackflow

ORPHANS = """
from stackflow import create_workflow_job

orphan = create_workflow_job(name="orphan", body=lambda: 1)


def _spare(input):
    return input


spare = create_workflow_job(name="spare", body=_spare)
"""

SLOW = """
import time
from stackflow import create_workflow, create_workflow_job


def _step(input):
    if input["i"] == 0:
        time.sleep(float(input.get("seconds", 2)))
    return input


step = create_workflow_job(name="step", body=_step)


def _main(input, ctx):
    return [ctx.jobs.step({"i": i, **input}) for i in range(3)]


main = create_workflow_job(name="slow-main", body=_main, deps=[step])
workflow = create_workflow(name="slow", main_job=main)
"""

VALID = (
    "Valid values: PENDING, PENDING_RESUME, PENDING_RETRY, RUNNING, WAITING, SUCCESS, FAILED, "
    "CANCELED"
)


def test_check_warns_about_jobs_no_workflow_reaches(run: Run, project: Path) -> None:
    (project / "workflows" / "orphans.py").write_text(ORPHANS)
    text = run("check")
    assert text.code == 0, text.stderr
    assert text.stdout.startswith("OK: 1 workflow, 5 jobs")
    assert text.stderr.splitlines() == [
        "workflows/orphans.py:4: warning: job 'orphan' is not reached by any workflow: no "
        "workflow's main job reaches it through deps or .trigger/.start calls [unreachable-job]",
        "workflows/orphans.py:7: warning: job 'spare' is not reached by any workflow: no "
        "workflow's main job reaches it through deps or .trigger/.start calls [unreachable-job]",
    ]
    shaped = run("check", "-j")
    assert shaped.code == 0 and shaped.stderr == ""
    warnings = shaped.json()["warnings"]
    assert [(w["rule"], w["file"], w["line"]) for w in warnings] == [
        ("unreachable-job", "workflows/orphans.py", 4),
        ("unreachable-job", "workflows/orphans.py", 7),
    ]
    assert "'orphan'" in warnings[0]["message"]


def test_a_clean_project_has_no_warnings(run: Run) -> None:
    done = run("check", "-j")
    assert done.code == 0 and done.stderr == ""
    assert "warnings" not in done.json()


def test_wait_until_a_status(run: Run, project: Path) -> None:
    (project / "workflows" / "slow.py").write_text(SLOW)
    started = run("workflow", "start", "slow", "-m", "admin", "-j")
    execution_id = started.json()["executionId"]
    running = run("workflow", "wait", execution_id, "--until", "running", "-j", "-i", "50ms")
    assert running.code == 0, running.stderr
    assert running.json()["status"] == "RUNNING"
    done = run("workflow", "wait", execution_id, "-u", "SUCCESS,FAILED", "-j")
    assert done.code == 0, done.stderr
    assert done.json()["status"] == "SUCCESS"
    settled = run("workflow", "wait", execution_id, "--until", "WAITING,FAILED", "-j")
    assert settled.code == 1
    assert settled.json()["status"] == "SUCCESS"


def test_wait_until_a_failure_exits_0(run: Run) -> None:
    started = run("workflow", "start", "order-processing", "-m", "admin", "-a", "{}", "-j")
    execution_id = started.json()["executionId"]
    failed = run("workflow", "wait", execution_id, "--until", "FAILED")
    assert failed.code == 0, failed.stderr
    assert "FAILED" in failed.stdout


def test_unknown_statuses_name_the_valid_ones(run: Run) -> None:
    started = run("workflow", "start", "order-processing", "-m", "admin", "-a", ORDER, "-j")
    execution_id = started.json()["executionId"]
    until = run("workflow", "wait", execution_id, "--until", "RUNNING,DONE")
    assert until.code == 2
    assert until.one_error_line() == f"Error: Invalid status: DONE. {VALID}"
    listed = run("workflow", "executions", "-s", "finished")
    assert listed.code == 2
    assert listed.one_error_line() == f"Error: Invalid status: finished. {VALID}"


def test_a_canceled_execution_records_its_stopped_job_as_canceled(run: Run, project: Path) -> None:
    (project / "workflows" / "slow.py").write_text(SLOW)
    started = run("workflow", "start", "slow", "-m", "admin", "-a", '{"seconds": 8}', "-j")
    execution_id = started.json()["executionId"]
    waiter = popen_stackflow(project, "workflow", "wait", execution_id, "-j", "-i", "100ms")
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            shown = run("workflow", "executions", execution_id, "-j").json()
            if shown["status"] == "RUNNING":
                break
            time.sleep(0.1)
        canceled = run("workflow", "cancel", execution_id, "-j")
        assert canceled.code == 0, canceled.stderr
        out, _ = waiter.communicate(timeout=60)
    finally:
        waiter.kill()
    assert json.loads(out)["status"] == "CANCELED"
    detail = run("workflow", "executions", execution_id, "-l", "-j").json()
    assert [(j["stackedJobName"], j["status"]) for j in detail["jobDetails"]] == [
        ("slow-main", "CANCELED"),
        ("slow-main/step", "SUCCESS"),
    ]


def test_a_wait_that_times_out_lets_the_next_wait_continue_at_once(run: Run, project: Path) -> None:
    (project / "workflows" / "slow.py").write_text(SLOW)
    started = run("workflow", "start", "slow", "-m", "admin", "-a", '{"seconds": 3}', "-j")
    execution_id = started.json()["executionId"]
    gave_up = run("workflow", "wait", execution_id, "--timeout", "1s", "-j")
    assert gave_up.code == 1
    assert f"Execution '{execution_id}' is still RUNNING after 1s." in gave_up.stderr
    shown = run("workflow", "executions", execution_id, "-j").json()
    assert shown["status"] == "PENDING_RESUME"  # released: nobody holds its 15 s lease
    began = time.monotonic()
    finished = run("workflow", "wait", execution_id, "-j")
    assert finished.code == 0, finished.stderr
    assert finished.json()["status"] == "SUCCESS"
    assert time.monotonic() - began < 12  # the job's 3 s and start-up, not a 15 s lease


HIDDEN = """
from stackflow import create_workflow, create_workflow_job

HIDDEN = [create_workflow_job(name=f"hidden-{n}", body=lambda input: input) for n in range(2)]


def _main(input):
    return HIDDEN[0].trigger({})


main = create_workflow_job(name="hidden-main", body=_main)
workflow = create_workflow(name="hidden", main_job=main)
"""


def test_check_finds_a_triggered_job_held_only_by_a_list(run: Run, project: Path) -> None:
    (project / "workflows" / "hidden.py").write_text(HIDDEN)
    done = run("check")
    assert done.code == 1
    assert done.one_error_line() == (
        "workflows/hidden.py:4: job 'hidden-0' (reachable from workflow 'hidden') must be bound "
        "to a module-level name in a loaded module; its body is at workflows/hidden.py:4 "
        "[jobs-bound-at-module-level]"
    )


TYPED = """
from dataclasses import dataclass

from stackflow import JobContext, create_workflow, workflow_job


@dataclass
class Order:
    id: str
    qty: int


@dataclass
class Receipt:
    order_id: str
    total: int


@workflow_job("place-order")
def place_order(order: Order, ctx: JobContext) -> Receipt:
    return Receipt(order.id, order.qty * 10)


workflow = create_workflow(name="typed", main_job=place_order)
"""


def test_a_typed_workflow_validates_its_argument(run: Run, project: Path) -> None:
    (project / "workflows" / "typed.py").write_text(TYPED)
    good = run(
        "workflow", "start", "typed", "-m", "admin", "-a", '{"id": "o1", "qty": 2}', "-W", "-j"
    )
    assert good.code == 0, good.stderr
    assert good.json()["result"] == {"order_id": "o1", "total": 20}
    bad = run(
        "workflow", "start", "typed", "-m", "admin", "-a", '{"id": "o1", "qty": "two"}', "-W", "-j"
    )
    assert bad.code == 1
    assert bad.json()["error"]["message"] == (
        "Input of job 'place-order' is not a valid Order: qty: Expected `int`, got `str`"
    )

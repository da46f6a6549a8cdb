"""`workflow restart`, `resume --all`, `cancel --all`, `prune`, `check --replay` (both backends)."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import EXECUTION_KEYS, ORDER, Run
from commands import command_env

from stackflow import Engine

BAD_ORDER = {"orderId": "o2"}  # no customerId: process-order fails at once
GOOD_ORDER = {"orderId": "o1", "customerId": "c1"}


@contextmanager
def engine_of(project: Path) -> Iterator[Engine]:
    with Engine.from_config(project / "stackflow.toml") as engine:
        yield engine


def make(project: Path, *, failed: int = 0, succeeded: int = 0, pending: int = 0) -> list[str]:
    """Executions made in-process (fast): FAILED ones, SUCCESS ones, then PENDING ones."""
    ids = []
    with engine_of(project) as engine:
        for arg, count in ((BAD_ORDER, failed), (GOOD_ORDER, succeeded)):
            for _ in range(count):
                ids.append(engine.start("order-processing", arg, invoker="admin"))
                engine.wait(ids[-1], run_here=True)
        ids += [engine.start("order-processing", GOOD_ORDER) for _ in range(pending)]
    return ids


def state(project: Path) -> list[Any]:
    """Every execution with its status and job executions (to prove nothing changed)."""
    with engine_of(project) as engine:
        return [
            (e.id, str(e.status), len(engine.get_execution(e.id).job_executions))
            for e in engine.list_executions()
        ]


def refused(run: Run, project: Path, code: int, *args: str) -> str:
    """The one error line of a command that must change nothing."""
    before = state(project)
    done = run(*args)
    assert done.code == code, (done.stdout, done.stderr)
    assert done.stdout == ""
    assert state(project) == before
    return done.one_error_line()


# restart ----------------------------------------------------------------------------------


def test_restart_from_a_job_carries_the_jobs_before_it(run: Run, project: Path) -> None:
    [old] = make(project, succeeded=1)
    from_job = ("--from-job", "process-order/send-notification")
    done = run("workflow", "restart", old, *from_job, "-W", "-l", "-j")
    assert done.code == 0, done.stderr
    shown = done.json()
    assert set(shown) == EXECUTION_KEYS | {"restartedFrom", "jobDetails"}
    assert shown["restartedFrom"] == old and shown["status"] == "SUCCESS"
    names = [job["stackedJobName"] for job in shown["jobDetails"]]
    assert names == [
        "process-order/fetch-customer",
        "process-order",
        "process-order/send-notification",
    ]
    assert f"Execution ID: {shown['id']}" in done.stderr

    text = run("workflow", "executions", shown["id"])
    assert text.code == 0 and f"restartedFrom  {old}" in text.stdout
    plain = run("workflow", "executions", old, "-j").json()
    assert set(plain) == EXECUTION_KEYS  # only a restart has restartedFrom


def test_restart_with_a_new_argument(run: Run, project: Path) -> None:
    [old] = make(project, failed=1)
    done = run("workflow", "restart", old, "-a", ORDER, "-j")
    assert done.code == 0, done.stderr
    new = done.json()["executionId"]
    restarted = run("workflow", "executions", new, "-j").json()
    assert restarted["arg"] == GOOD_ORDER and restarted["status"] == "PENDING"
    assert run("workflow", "wait", new, "-j").json()["status"] == "SUCCESS"


def test_restart_refusals(run: Run, project: Path) -> None:
    [failed, pending] = make(project, failed=1, pending=1)
    assert refused(run, project, 1, "workflow", "restart", "nope") == (
        "Error: Execution 'nope' not found."
    )
    line = refused(run, project, 2, "workflow", "restart", failed, "--from-job", "process")
    assert line == (
        f"Error: Unknown job 'process' in execution '{failed}'. "
        "Its stacked job names: process-order."
    )
    line = refused(run, project, 1, "workflow", "restart", pending)
    assert line.startswith(f"Error: Execution '{pending}' is PENDING: only a SUCCESS, FAILED")
    line = refused(run, project, 2, "workflow", "restart", failed, "-a", "{bad")
    assert line.startswith("Error: Invalid JSON in --arg: ")


# resume --all and cancel --all ------------------------------------------------------------


def test_resume_all_resumes_the_failed_ones(run: Run, project: Path) -> None:
    ids = make(project, failed=3, succeeded=1)
    done = run("workflow", "resume", "--all", "-s", "FAILED", "-j")
    assert done.code == 0, done.stderr
    assert done.json() == {"count": 3}
    statuses = dict((i, s) for i, s, _ in state(project))
    assert [statuses[i] for i in ids] == ["PENDING_RESUME"] * 3 + ["SUCCESS"]
    again = run("workflow", "resume", "--all", "-n", "order-processing", "--since", "1h", "-y")
    assert (again.code, again.stdout) == (0, "Resumed 0 execution(s).\n")


def test_cancel_all_cancels_the_pending_ones(run: Run, project: Path) -> None:
    ids = make(project, succeeded=1, pending=2)
    done = run("workflow", "cancel", "--all", "-n", "order-processing", "-y")
    assert (done.code, done.stdout) == (0, "Canceled 2 execution(s).\n")
    statuses = dict((i, s) for i, s, _ in state(project))
    assert [statuses[i] for i in ids] == ["SUCCESS", "CANCELED", "CANCELED"]


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("resume", "--all"), 2, "Error: resume --all needs at least one filter: -n NAME, "),
        (("cancel", "--all", "-y"), 2, "Error: cancel --all needs at least one filter"),
        (("resume",), 2, "Error: Give the ID of the execution to resume, or --all"),
        (("cancel", "-s", "PENDING"), 2, "Error: -n, -s, --since and -y go with --all"),
        (("resume", "--all", "--since", "soon"), 2, "Error: Invalid value for --since: 'soon'."),
        (("cancel", "--all", "-s", "later"), 2, "Error: Invalid status: later. Valid values: "),
        (("resume", "--all", "-s", "SUCCESS"), 2, "Error: resume acts only on FAILED, "),
        (("resume", "--all", "-s", "FAILED", "-W"), 2, "Error: --wait follows one execution"),
    ],
)
def test_bulk_refusals(run: Run, project: Path, args: tuple[str, ...], code: int, message: str):
    make(project, failed=1, pending=1)
    assert refused(run, project, code, "workflow", *args).startswith(message)


def test_an_id_with_all_is_refused(run: Run, project: Path) -> None:
    [failed] = make(project, failed=1)
    line = refused(run, project, 2, "workflow", "resume", failed, "--all", "-s", "FAILED")
    assert line == "Error: Give one execution ID, or --all with filters, to resume: not both."


def test_a_terminal_is_asked_to_confirm(run: Run, project: Path) -> None:
    make(project, pending=2)
    before = state(project)
    declined = _on_a_terminal(project, "n", "workflow", "cancel", "--all", "-s", "PENDING")
    assert declined.returncode == 1
    assert "Cancel 2 execution(s)? [y/N]" in declined.stderr
    assert "Aborted: nothing was changed." in declined.stderr
    assert state(project) == before
    accepted = _on_a_terminal(project, "y", "workflow", "cancel", "--all", "-s", "PENDING")
    assert accepted.returncode == 0 and accepted.stdout == "Canceled 2 execution(s).\n"
    assert {status for _, status, _ in state(project)} == {"CANCELED"}


def _on_a_terminal(project: Path, answer: str, *args: str) -> subprocess.CompletedProcess[str]:
    controller, terminal = pty.openpty()
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "stackflow", *args],
            cwd=project,
            env=command_env(),
            stdin=terminal,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        os.write(controller, f"{answer}\n".encode())
        stdout, stderr = process.communicate(timeout=60)
    finally:
        os.close(terminal)
        os.close(controller)
    return subprocess.CompletedProcess(args, process.returncode, stdout, stderr)


# prune ------------------------------------------------------------------------------------


def test_prune_deletes_old_final_executions(run: Run, project: Path) -> None:
    failed, *_ = make(project, failed=1, succeeded=2)
    time.sleep(1.1)
    [pending] = make(project, pending=1)

    dry = run("workflow", "prune", "--older-than", "1s", "--dry-run", "-j")
    assert (dry.code, dry.json()) == (0, {"count": 2})
    assert len(state(project)) == 4
    done = run("workflow", "prune", "--older-than", "1s")
    assert done.code == 0, done.stderr
    assert done.stdout == "Deleted 2 execution(s), 6 job execution(s) and 0 wait(s).\n"
    on_sqlite = "postgresql" not in (project / "stackflow.toml").read_text()
    assert ("page(s)" in done.stderr and "VACUUM" in done.stderr) == on_sqlite
    assert [i for i, _, _ in state(project)] == [pending, failed]
    failed_too = run("workflow", "prune", "--older-than", "1s", "-s", "SUCCESS,FAILED", "-j")
    assert failed_too.json() == {"count": 1}
    assert [i for i, _, _ in state(project)] == [pending]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "Error: Missing --older-than: prune deletes the executions that finished longer"),
        (("--older-than", "a while"), "Error: Invalid value for --older-than: 'a while'."),
        (("--older-than", "30"), "Error: Invalid value for --older-than: '30'."),
        (("--older-than", "1d", "-s", "SUCCES"), "Error: Invalid status: SUCCES. Valid values:"),
        (("--older-than", "1d", "-s", "RUNNING"), "Error: prune acts only on SUCCESS, FAILED, "),
    ],
)
def test_prune_refusals(run: Run, project: Path, args: tuple[str, ...], message: str) -> None:
    make(project, succeeded=1)
    assert refused(run, project, 2, "workflow", "prune", *args).startswith(message)


# check --replay ---------------------------------------------------------------------------


def test_check_replay_flags_a_changed_workflow(run: Run, project: Path) -> None:
    make(project, failed=1)  # replayable, but its main job made no call: nothing to check
    _waiting_order(project)
    clean = run("check", "--replay", "-j")
    assert (clean.code, clean.json()) == (0, [])
    text = run("check", "--replay")
    assert text.code == 0
    assert "Replay: no execution would hit non-determinism." in text.stdout

    workflow_file = project / "workflows" / "order_processing.py"
    source = workflow_file.read_text()
    workflow_file.write_text(source.replace('{"customerId": input["customerId"]}', "{}"))
    flagged = run("check", "--replay", "-j")
    assert flagged.code == 1
    [finding] = flagged.json()
    assert set(finding) == {"executionId", "workflowName", "stackedJobName", "message"}
    assert finding["stackedJobName"] == "process-order"
    assert "fetch-customer({})" in finding["message"]
    assert 'fetch-customer({"customerId":"c1"})' in finding["message"]
    shown = run("check", "--replay", "-n", "order-processing")
    assert shown.code == 1 and finding["executionId"] in shown.stdout
    assert "the recorded call was" in shown.stdout
    assert run("check", "--replay", "-n", "elsewhere", "-j").json() == []


def test_check_name_without_replay_is_a_usage_error(run: Run, project: Path) -> None:
    line = refused(run, project, 2, "check", "-n", "order-processing")
    assert line == "Error: -n/--name goes with --replay: `stackflow check --replay -n NAME`."


def _waiting_order(project: Path) -> None:
    """An order that waits at a wait point after fetching its customer."""
    path = project / "workflows" / "order_processing.py"
    source = path.read_text()
    source = source.replace(
        "    note = ctx.jobs.send_notification.trigger(",
        '    confirm.wait({"orderId": input["orderId"]})\n'
        "    note = ctx.jobs.send_notification.trigger(",
    )
    source = source.replace(
        "from stackflow import JobContext, create_workflow, workflow_job",
        "from stackflow import JobContext, create_wait_point, create_workflow, workflow_job\n\n"
        'confirm = create_wait_point("confirm")',
    )
    path.write_text(source)
    with engine_of(project) as engine:
        execution_id = engine.start("order-processing", GOOD_ORDER, invoker="admin")
        assert engine.wait(execution_id, run_here=True).status == "WAITING"

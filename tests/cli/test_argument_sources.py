"""`-a @FILE` and `-a -` (stdin) in start, restart and resolve; `-a` with `-g` is a usage error."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from cli_helpers import ORDER, Run, execution_count
from commands import Result, command_env

WAITING_FLOW = """
from stackflow import create_wait_point, create_workflow, workflow_job

approval = create_wait_point("approval")


@workflow_job("approve")
def approve(input):
    return approval.wait({"orderId": input["orderId"]})


workflow = create_workflow(name="approval", main_job=approve)
"""

START = ("workflow", "start", "order-processing", "-m", "admin")
BIG_ORDER = {"orderId": "o1", "customerId": "c1", "note": "n" * 200_000}


def with_stdin(project: Path, text: bytes, *args: str) -> Result:
    """Run `stackflow ARGS` in `project` with `text` on stdin."""
    done = subprocess.run(
        [sys.executable, "-m", "stackflow", *args],
        cwd=project,
        env=command_env(),
        input=text,
        capture_output=True,
        timeout=60,
    )
    return Result(done.returncode, done.stdout.decode(), done.stderr.decode())


def arg_of(run: Run, execution_id: str) -> object:
    return run("workflow", "executions", execution_id, "-j").json()["arg"]


def test_start_reads_the_argument_from_a_file(run: Run, project: Path) -> None:
    (project / "order.json").write_text(json.dumps(BIG_ORDER), encoding="utf-8")

    done = run(*START, "-g", "@order.json", "-j")

    assert done.code == 0, done.stderr
    assert arg_of(run, done.json()["executionId"]) == BIG_ORDER


def test_restart_reads_the_new_argument_from_stdin(run: Run, project: Path) -> None:
    first = run(*START, "-a", ORDER, "-W", "-j").json()["id"]

    done = with_stdin(
        project,
        b'{"orderId": "o7", "customerId": "c7"}',
        "workflow",
        "restart",
        first,
        "-a",
        "-",
        "-j",
    )

    assert done.code == 0, done.stderr
    assert arg_of(run, json.loads(done.stdout)["executionId"]) == {
        "orderId": "o7",
        "customerId": "c7",
    }


def test_resolve_reads_the_result_from_a_file(run: Run, project: Path) -> None:
    (project / "workflows" / "approval.py").write_text(WAITING_FLOW)
    waiting = run("workflow", "start", "approval", "-m", "admin", "-a", ORDER, "-W", "-j").json()
    (project / "decision.json").write_text('{"approved": true}')

    done = run("workflow", "resolve", waiting["id"], "approval", "-a", "@decision.json", "-j")

    assert done.code == 0, done.stderr
    finished = run("workflow", "wait", waiting["id"], "-j").json()
    assert finished["result"] == {"approved": True}


def refused(run: Run, project: Path, *args: str) -> str:
    before = execution_count(project)
    done = run(*args)
    assert done.code == 2, (done.stdout, done.stderr)
    assert done.stdout == ""
    assert execution_count(project) == before
    return done.one_error_line()


def test_both_arg_options_is_a_usage_error(run: Run, project: Path) -> None:
    line = refused(run, project, *START, "-a", ORDER, "-g", ORDER)
    assert line == "Error: -a/--arg and -g give the same argument: use one of them, not both."


def test_a_missing_argument_file(run: Run, project: Path) -> None:
    line = refused(run, project, *START, "-a", "@missing.json")
    assert line == "Error: Cannot read the --arg file 'missing.json': No such file or directory."


def test_an_argument_file_that_is_not_utf8(run: Run, project: Path) -> None:
    (project / "latin1.json").write_bytes(b'{"orderId": "caf\xe9"}')
    line = refused(run, project, *START, "-a", "@latin1.json")
    assert line.startswith("Error: The --arg file 'latin1.json' is not UTF-8 text")


def test_malformed_json_on_stdin(project: Path) -> None:
    done = with_stdin(project, b'{"orderId": ', *START, "-a", "-")
    assert done.code == 2, done.stderr
    assert done.one_error_line().startswith("Error: Invalid JSON in --arg from stdin: ")
    assert execution_count(project) == 0

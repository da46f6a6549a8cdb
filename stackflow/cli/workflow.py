"""`stackflow workflow`: list, get, start, executions, resume, wait, cancel, resolve."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import click

from stackflow import shapes
from stackflow.cli import render
from stackflow.cli.arguments import arg_options, parse_arg
from stackflow.cli.bulk import BulkRequest, bulk_options, run_bulk
from stackflow.cli.common import (
    EXIT_FAILED,
    UsageError,
    config_option,
    json_option,
    note,
    print_json,
    start_tracing,
)
from stackflow.cli.waiting import follow, interval_option, timeout_option
from stackflow.engine.engine import Engine
from stackflow.records import Execution, ExecutionStatus, parse_statuses

MACHINE_USER_VARIABLE = "STACKFLOW_MACHINE_USER"
NO_WORKER_START_NOTE = (
    "No worker is running: the execution stays {status} until one runs it. Start one with "
    "`stackflow worker`, or run it here with `stackflow workflow wait {id}`."
)

logs_option = click.option(
    "-l", "--logs", "with_logs", is_flag=True, help="Show each job execution with its logs."
)
wait_option = click.option(
    "-W", "--wait", "wait", is_flag=True, help="Wait until the execution stops (or waits)."
)


@contextmanager
def open_engine(config_path: str | None, *, runs_jobs: bool = False) -> Iterator[Engine]:
    """The project's engine, closed afterwards; `runs_jobs` refuses a project with breaches.

    Tracing is set up first when the OTEL_* variables ask for it.
    """
    start_tracing()
    engine = Engine.from_config(config_path)
    try:
        if runs_jobs and engine.project is not None:
            engine.project.raise_for_breaches()
        yield engine
    finally:
        engine.close()


def show_execution(execution: Execution, *, as_json: bool, with_logs: bool) -> None:
    """Print an execution object (JSON or a key/value table with job sections)."""
    if as_json:
        print_json(shapes.execution_json(execution, with_jobs=with_logs))
    else:
        render.print_execution(execution, with_logs=with_logs)


def follow_and_show(
    engine: Engine,
    execution_id: str,
    *,
    interval_seconds: float,
    timeout_seconds: float | None = None,
    as_json: bool,
    with_logs: bool,
    until: Sequence[ExecutionStatus] = (),
) -> None:
    """Wait for the execution to stop, print it, exit 1 if it FAILED.

    With `until`: wait until it is in one of those statuses (exit 0), exit 1 if it
    settles in another.
    """
    execution = follow(
        engine,
        execution_id,
        interval_seconds=interval_seconds,
        timeout_seconds=timeout_seconds,
        quiet=as_json,
        until=until,
    )
    show_execution(execution, as_json=as_json, with_logs=with_logs)
    failed = execution.status not in until if until else execution.status == ExecutionStatus.FAILED
    if failed:
        sys.exit(EXIT_FAILED)


def follow_or_show_id(
    engine: Engine,
    execution_id: str,
    *,
    wait: bool,
    interval_seconds: float,
    as_json: bool,
    with_logs: bool,
) -> None:
    """With --wait follow the execution to its end; else print its id (and the worker hint)."""
    if wait:
        follow_and_show(
            engine,
            execution_id,
            interval_seconds=interval_seconds,
            as_json=as_json,
            with_logs=with_logs,
        )
        return
    show_id(execution_id, as_json=as_json)
    note_if_no_worker(engine, execution_id)


def show_id(execution_id: str, *, as_json: bool) -> None:
    """Print `{executionId}`."""
    if as_json:
        print_json({"executionId": execution_id})
    else:
        render.print_object({"executionId": execution_id})


def note_if_no_worker(engine: Engine, execution_id: str) -> None:
    """Say how the execution will run when no worker is live."""
    if not engine.has_live_worker():
        execution = engine.find_execution(execution_id)
        status = execution.status if execution is not None else ExecutionStatus.PENDING
        note(NO_WORKER_START_NOTE.format(status=status, id=execution_id))


# The group ------------------------------------------------------------------------------


@click.group("workflow", invoke_without_command=True)
@config_option
@json_option
@click.pass_context
def workflow(ctx: click.Context, config_path: str | None, as_json: bool) -> None:
    """Start, follow, resume and inspect workflow executions (alone: list the workflows)."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(list_workflows, config_path=config_path, as_json=as_json)


@workflow.command("list")
@config_option
@json_option
def list_workflows(config_path: str | None, as_json: bool) -> None:
    """List the project's workflows."""
    with open_engine(config_path) as engine:
        rows = [shapes.workflow_summary_json(s) for s in engine.describe_workflows()]
    if as_json:
        print_json(rows)
    else:
        render.print_rows(rows, render.WORKFLOW_COLUMNS, "No workflows found.")


@workflow.command("get")
@click.argument("name")
@config_option
@json_option
def get_workflow(name: str, config_path: str | None, as_json: bool) -> None:
    """Show a workflow: its main job and each job function's version."""
    with open_engine(config_path) as engine:
        shaped = shapes.workflow_json(engine.describe_workflow(name))
    if as_json:
        print_json(shaped)
    else:
        render.print_object(shaped)


def _machine_user(engine: Engine, name: str | None, workflow_name: str) -> str | None:
    if name is None and engine.machine_users:
        known = ", ".join(sorted(engine.machine_users))
        raise UsageError(
            f"Missing -m/--machineuser: name the machine user to start '{workflow_name}' as "
            f"(configured: {known}), or set {MACHINE_USER_VARIABLE}."
        )
    if name is not None:
        engine.resolve_invoker(name)
    return name


@workflow.command("start")
@click.argument("name")
@click.option(
    "-m",
    "--machineuser",
    "--machine-user",
    "machine_user",
    envvar=MACHINE_USER_VARIABLE,
    help="The machine user to start as (a name under [machine_users]).",
)
@arg_options("The argument, a JSON object.")
@wait_option
@interval_option
@logs_option
@config_option
@json_option
def start(
    name: str,
    machine_user: str | None,
    arg_text: str | None,
    g_text: str | None,
    wait: bool,
    interval_seconds: float,
    with_logs: bool,
    config_path: str | None,
    as_json: bool,
) -> None:
    """Start an execution of workflow NAME."""
    arg = parse_arg(arg_text, g_text)
    with open_engine(config_path, runs_jobs=True) as engine:
        engine.get_workflow(name)
        invoker = _machine_user(engine, machine_user, name)
        execution_id = engine.start(name, arg, invoker=invoker)
        note(f"Execution ID: {execution_id}")
        follow_or_show_id(
            engine,
            execution_id,
            wait=wait,
            interval_seconds=interval_seconds,
            as_json=as_json,
            with_logs=with_logs,
        )


@workflow.command("executions")
@click.argument("execution_id", required=False)
@click.option("-n", "--name", "workflow_name", help="Only executions of this workflow.")
@click.option("-s", "--status", "status", help="Only executions in this status.")
@wait_option
@interval_option
@logs_option
@config_option
@json_option
def executions(
    execution_id: str | None,
    workflow_name: str | None,
    status: str | None,
    wait: bool,
    interval_seconds: float,
    with_logs: bool,
    config_path: str | None,
    as_json: bool,
) -> None:
    """List executions (newest first), or show execution EXECUTION_ID."""
    statuses = parse_statuses(status)
    if execution_id is None:
        if wait:
            raise UsageError("--wait follows one execution: give its ID.")
        _list_executions(config_path, workflow_name, statuses, as_json=as_json)
        return
    with open_engine(config_path, runs_jobs=wait) as engine:
        if wait:
            follow_and_show(
                engine,
                execution_id,
                interval_seconds=interval_seconds,
                as_json=as_json,
                with_logs=with_logs,
            )
            return
        execution = engine.get_execution(execution_id)
    show_execution(execution, as_json=as_json, with_logs=with_logs)


def _list_executions(
    config_path: str | None,
    workflow_name: str | None,
    statuses: list[ExecutionStatus],
    *,
    as_json: bool,
) -> None:
    with open_engine(config_path) as engine:
        found = engine.list_executions(workflow_name, statuses)
    rows = [shapes.execution_json(execution) for execution in found]
    if as_json:
        print_json(rows)
    else:
        render.print_rows(rows, render.EXECUTION_COLUMNS, "No executions found.")


@workflow.command("resume")
@click.argument("execution_id", required=False)
@bulk_options
@wait_option
@interval_option
@logs_option
@config_option
@json_option
def resume(
    execution_id: str | None,
    all_: bool,
    workflow_name: str | None,
    status: str | None,
    since: str | None,
    yes: bool,
    wait: bool,
    interval_seconds: float,
    with_logs: bool,
    config_path: str | None,
    as_json: bool,
) -> None:
    """Resume a FAILED execution from its point of failure (same ID); or, with --all,
    every FAILED or PENDING_RETRY execution matching -n, -s and --since."""
    request = BulkRequest("resume", all_, workflow_name, status, since, yes)
    if request.is_bulk:
        request.check(execution_id, wait=wait)
        with open_engine(config_path, runs_jobs=True) as engine:
            run_bulk(request, engine.resume_all, "Resumed", as_json=as_json)
        return
    if execution_id is None:
        raise UsageError("Give the ID of the execution to resume, or --all with filters.")
    with open_engine(config_path, runs_jobs=True) as engine:
        engine.resume(execution_id)
        note(f"Resumed execution {execution_id}.")
        follow_or_show_id(
            engine,
            execution_id,
            wait=wait,
            interval_seconds=interval_seconds,
            as_json=as_json,
            with_logs=with_logs,
        )


@workflow.command("wait")
@click.argument("execution_id")
@click.option(
    "-u",
    "--until",
    "until_text",
    metavar="STATUS[,STATUS]",
    help="Return as soon as the execution is in one of these statuses (exit 1 if it settles "
    "in another).",
)
@timeout_option
@interval_option
@logs_option
@config_option
@json_option
def wait_for(
    execution_id: str,
    until_text: str | None,
    timeout_seconds: float,
    interval_seconds: float,
    with_logs: bool,
    config_path: str | None,
    as_json: bool,
) -> None:
    """Wait until execution EXECUTION_ID stops (or reaches an --until status); exit 1 if it
    FAILED (or settled in another status) or the timeout passed."""
    until = parse_statuses(until_text)
    with open_engine(config_path, runs_jobs=True) as engine:
        follow_and_show(
            engine,
            execution_id,
            interval_seconds=interval_seconds,
            timeout_seconds=timeout_seconds,
            as_json=as_json,
            with_logs=with_logs,
            until=until,
        )


@workflow.command("cancel")
@click.argument("execution_id", required=False)
@bulk_options
@config_option
@json_option
def cancel(
    execution_id: str | None,
    all_: bool,
    workflow_name: str | None,
    status: str | None,
    since: str | None,
    yes: bool,
    config_path: str | None,
    as_json: bool,
) -> None:
    """Cancel an execution: at once, or when RUNNING at its next job boundary; or, with
    --all, every execution matching -n, -s and --since that has not ended."""
    request = BulkRequest("cancel", all_, workflow_name, status, since, yes)
    if request.is_bulk:
        request.check(execution_id)
        with open_engine(config_path) as engine:
            run_bulk(request, engine.cancel_all, "Canceled", as_json=as_json)
        return
    if execution_id is None:
        raise UsageError("Give the ID of the execution to cancel, or --all with filters.")
    with open_engine(config_path) as engine:
        status_now = engine.cancel(execution_id)
        execution = engine.get_execution(execution_id)
    if status_now != ExecutionStatus.CANCELED:
        note(f"Execution '{execution_id}' is {status_now}: it stops at its next job boundary.")
    show_execution(execution, as_json=as_json, with_logs=False)


@workflow.command("resolve")
@click.argument("execution_id")
@click.argument("key")
@arg_options("The wait's result, as JSON.")
@config_option
@json_option
def resolve(
    execution_id: str,
    key: str,
    arg_text: str | None,
    g_text: str | None,
    config_path: str | None,
    as_json: bool,
) -> None:
    """Resolve a WAITING execution's wait point KEY with a JSON result."""
    value = parse_arg(arg_text, g_text)
    with open_engine(config_path) as engine:
        engine.resolve(execution_id, key, lambda payload: value)
        execution = engine.get_execution(execution_id)
    note(f"Resolved wait point '{key}' of execution {execution_id}.")
    show_execution(execution, as_json=as_json, with_logs=False)

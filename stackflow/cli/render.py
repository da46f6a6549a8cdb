"""Shaping records for output: the CLI's camelCase JSON objects and their rich tables."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from stackflow.jsonvalue import format_datetime
from stackflow.records import Execution, JobExecution, WorkflowRecord

if TYPE_CHECKING:
    from rich.console import Console

    from stackflow.executions import Engine

PIPED_WIDTH = 200
"""Table width when stdout is not a terminal (so piped tables are not folded at 80)."""

EXECUTION_COLUMNS = ("id", "workflowName", "status", "jobExecutions", "startedAt", "finishedAt")
WORKFLOW_COLUMNS = ("name", "mainJob", "jobFunctions", "updatedAt")


def timestamp(value: datetime | None) -> str | None:
    """UTC `YYYY-MM-DDTHH:MM:SS.mmmZ`, or None."""
    return None if value is None else format_datetime(value)


# JSON shapes ----------------------------------------------------------------------------


def execution_json(execution: Execution, *, with_jobs: bool = False) -> dict[str, Any]:
    """`{id, workflowName, status, jobExecutions, startedAt, finishedAt, arg, result, ...}`."""
    shaped: dict[str, Any] = {
        "id": execution.id,
        "workflowName": execution.workflow_name,
        "status": str(execution.status),
        "jobExecutions": execution.job_execution_count,
        "startedAt": timestamp(execution.started_at),
        "finishedAt": timestamp(execution.finished_at),
        "arg": execution.arg,
        "result": execution.result,
        "error": execution.error,
        "invoker": execution.invoker,
    }
    if with_jobs:
        shaped["jobDetails"] = [job_json(job) for job in execution.job_executions]
    return shaped


def job_json(job: JobExecution) -> dict[str, Any]:
    """One entry of `jobDetails` (with `attempt` and `input` added to the TypeScript keys)."""
    return {
        "id": job.id,
        "stackedJobName": job.stacked_job_name,
        "status": str(job.status),
        "executionId": job.execution_id,
        "attempt": job.attempt,
        "startedAt": timestamp(job.started_at),
        "finishedAt": timestamp(job.finished_at),
        "input": job.input,
        "logs": job.logs,
        "result": job.result,
        "error": job.error,
    }


def workflow_summary_json(
    name: str, main_job: str, job_count: int, updated_at: datetime | None
) -> dict[str, Any]:
    """One entry of `workflow list`: `{name, mainJob, jobFunctions: <count>, updatedAt}`."""
    return {
        "name": name,
        "mainJob": main_job,
        "jobFunctions": job_count,
        "updatedAt": timestamp(updated_at),
    }


def workflow_json(
    record: WorkflowRecord, other_versions: Mapping[str, Sequence[str]]
) -> dict[str, Any]:
    """`workflow get`: `{name, id, mainJob, jobFunctions: {job: version}, createdAt, updatedAt}`.

    `otherVersions` (job name → versions other than the current one that job
    executions of this workflow ran) is added only when there are any.
    """
    shaped: dict[str, Any] = {
        "name": record.name,
        "id": record.id,
        "mainJob": record.main_job,
        "jobFunctions": dict(record.job_versions),
        "createdAt": timestamp(record.created_at),
        "updatedAt": timestamp(record.updated_at),
    }
    if other_versions:
        shaped["otherVersions"] = {job: list(found) for job, found in other_versions.items()}
    return shaped


# Text output ----------------------------------------------------------------------------


def stdout_console() -> Console:
    """A console on stdout; wide when piped so tables keep one row per line."""
    from rich.console import Console  # rich loads only for text output

    piped = not sys.stdout.isatty()
    return Console(width=PIPED_WIDTH if piped else None, highlight=False, soft_wrap=False)


def cell(value: Any) -> str:
    """A value as a table cell: JSON for objects and lists, `-` for null."""
    if value is None:
        return "-"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def print_object(shaped: Mapping[str, Any]) -> None:
    """An object as a two-column key/value table."""
    from rich.table import Table

    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column("key", style="bold", no_wrap=True)
    table.add_column("value", overflow="fold")
    for key, value in shaped.items():
        table.add_row(key, cell(value))
    stdout_console().print(table)


def print_rows(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], empty: str) -> None:
    """A list as a table with one column per key; `empty` when there are no rows."""
    from rich.table import Table

    console = stdout_console()
    if not rows:
        console.print(empty)
        return
    table = Table()
    for column in columns:
        table.add_column(column, no_wrap=column in ("id", "status"), overflow="fold")
    for row in rows:
        table.add_row(*(cell(row.get(column)) for column in columns))
    console.print(table)


def error_line(error: Mapping[str, Any] | None) -> str | None:
    """`<type>: <message>` of an error record (tables leave the traceback to the JSON)."""
    if error is None:
        return None
    return f"{error.get('type', 'Error')}: {error.get('message', '')}"


def print_execution(execution: Execution, *, with_logs: bool) -> None:
    """An execution as a key/value table; with `with_logs` a section per job execution."""
    shaped = execution_json(execution)
    shaped["error"] = error_line(execution.error)
    print_object(shaped)
    if not with_logs:
        return
    console = stdout_console()
    for job in execution.job_executions:
        console.print()
        console.print(f"--- {job.stacked_job_name} ---", markup=False)
        console.print(f"Status: {job.status}", markup=False)
        console.print(f"Started: {timestamp(job.started_at) or '-'}", markup=False)
        console.print(f"Finished: {timestamp(job.finished_at) or '-'}", markup=False)
        console.print("Logs:" + (f"\n{job.logs}" if job.logs else " -"), markup=False)
        console.print(f"Result: {pretty(job.result)}", markup=False)
        if job.error is not None:
            console.print(f"Error: {error_line(job.error)}", markup=False)


def pretty(value: Any) -> str:
    """Indented JSON."""
    return json.dumps(value, indent=2, ensure_ascii=False)


def workflows_json(engine: Engine) -> list[dict[str, Any]]:
    """`workflow list -j`: every workflow of the project, by name."""
    records = {record.name: record for record in engine.store.list_workflow_records()}
    rows = []
    for name in sorted(engine.workflows):
        workflow = engine.workflows[name]
        record = records.get(name)
        count = len(engine.job_versions(workflow))
        updated = record.updated_at if record is not None else None
        rows.append(workflow_summary_json(name, workflow.main_job.name, count, updated))
    return rows


def workflow_detail_json(engine: Engine, name: str) -> dict[str, Any] | None:
    """`workflow get NAME -j`, or None when the registry does not know the workflow."""
    records = {record.name: record for record in engine.store.list_workflow_records()}
    record = records.get(name)
    if record is None:
        return None
    used = engine.store.job_versions_used(name)
    other = {
        job: sorted(versions - {record.job_versions.get(job)})
        for job, versions in sorted(used.items())
        if versions - {record.job_versions.get(job)}
    }
    return workflow_json(record, other)


def unknown_workflow_message(engine: Engine, name: str) -> str:
    """The one line for a workflow name nobody defined."""
    known = ", ".join(sorted(engine.workflows)) or "none"
    return f"Workflow '{name}' not found. Known workflows: {known}."

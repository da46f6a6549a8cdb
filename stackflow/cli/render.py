"""Text output of the CLI: key/value tables, row tables and the per-job sections of `--logs`."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from stackflow.records import Execution
from stackflow.shapes import execution_json, timestamp

if TYPE_CHECKING:
    from rich.console import Console

PIPED_WIDTH = 200
"""Table width when stdout is not a terminal (so piped tables are not folded at 80)."""

EXECUTION_COLUMNS = ("id", "workflowName", "status", "jobExecutions", "startedAt", "finishedAt")
WORKFLOW_COLUMNS = ("name", "mainJob", "jobFunctions", "updatedAt")


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

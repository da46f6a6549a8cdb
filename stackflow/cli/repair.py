"""`stackflow workflow restart` and `stackflow workflow prune`."""

from __future__ import annotations

from typing import Any

import click

from stackflow.cli.arguments import arg_options, parse_arg
from stackflow.cli.bulk import long_duration
from stackflow.cli.common import UsageError, config_option, json_option, note, print_json
from stackflow.cli.waiting import interval_option
from stackflow.cli.workflow import (
    follow_or_show_id,
    logs_option,
    open_engine,
    wait_option,
)

PAGE_NOTE = (
    "Freed {pages} page(s) ({size}) in the store file: later writes reuse them; VACUUM "
    "(by hand, with every process stopped) gives them back to the file system."
)


@click.command("restart")
@click.argument("execution_id")
@click.option(
    "--from-job",
    "from_job",
    metavar="STACKED_NAME",
    help="Carry the finished job executions recorded before the first one with this name.",
)
@arg_options("A new argument (JSON).")
@wait_option
@interval_option
@logs_option
@config_option
@json_option
def restart(
    execution_id: str,
    from_job: str | None,
    arg_text: str | None,
    g_text: str | None,
    wait: bool,
    interval_seconds: float,
    with_logs: bool,
    config_path: str | None,
    as_json: bool,
) -> None:
    """Start a new execution from a SUCCESS, FAILED or CANCELED one (restartedFrom)."""
    options: dict[str, Any] = {"from_job": from_job}
    if arg_text is not None or g_text is not None:
        options["arg"] = parse_arg(arg_text, g_text)
    with open_engine(config_path, runs_jobs=True) as engine:
        new_id = engine.restart(execution_id, **options)
        note(f"Execution ID: {new_id}")
        follow_or_show_id(
            engine,
            new_id,
            wait=wait,
            interval_seconds=interval_seconds,
            as_json=as_json,
            with_logs=with_logs,
        )


@click.command("prune")
@click.option(
    "--older-than",
    "older_than",
    metavar="DURATION",
    help="Delete executions that finished longer ago than this, e.g. 30d (required).",
)
@click.option(
    "-s",
    "--status",
    "status",
    help="Final statuses to delete, comma-separated (default SUCCESS,CANCELED).",
)
@click.option("--dry-run", is_flag=True, help="Only count what would be deleted.")
@config_option
@json_option
def prune(
    older_than: str | None,
    status: str | None,
    dry_run: bool,
    config_path: str | None,
    as_json: bool,
) -> None:
    """Delete old final executions with their job executions and waits."""
    if older_than is None:
        raise UsageError(
            "Missing --older-than: prune deletes the executions that finished longer ago "
            "than that, e.g. --older-than 30d."
        )
    seconds = long_duration(older_than, "--older-than")
    with open_engine(config_path) as engine:
        report = engine.prune(seconds, status, dry_run=dry_run)
    if as_json:
        print_json({"count": report.count})
    elif dry_run:
        click.echo(f"Would delete {report.count} execution(s).")
    else:
        click.echo(
            f"Deleted {report.count} execution(s), {report.job_executions} job execution(s) "
            f"and {report.waits} wait(s)."
        )
    if report.pages_freed is not None:
        size = _size(report.pages_freed * report.page_bytes)
        note(PAGE_NOTE.format(pages=report.pages_freed, size=size))


def _size(count: int) -> str:
    """A byte count in KiB or MiB."""
    kib = count / 1024
    return f"{kib:.0f} KiB" if kib < 1024 else f"{kib / 1024:.1f} MiB"

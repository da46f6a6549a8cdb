"""`stackflow schedule list`: the project's schedules and their next run times."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from stackflow.cli import render
from stackflow.cli.common import config_option, json_option, print_json
from stackflow.jsonvalue import format_datetime
from stackflow.project.loader import load_project

SCHEDULE_COLUMNS = ("name", "workflow", "cron", "timezone", "nextRunAt")


@click.group("schedule", invoke_without_command=True)
@click.pass_context
def schedule(ctx: click.Context) -> None:
    """The project's schedules."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(list_schedules)


@schedule.command("list")
@config_option
@json_option
def list_schedules(config_path: str | None = None, as_json: bool = False) -> None:
    """List schedules with their next run time (UTC)."""
    project = load_project(config_path)
    now = datetime.now(UTC)
    rows = [
        {
            "name": item.name,
            "workflow": item.workflow.name,
            "cron": item.cron,
            "timezone": item.timezone,
            "machineUser": item.machine_user,
            "nextRunAt": format_datetime(item.next_tick(now)),
        }
        for item in sorted(project.schedules.values(), key=lambda s: s.name)
    ]
    if as_json:
        print_json(rows)
        return
    render.print_rows(rows, SCHEDULE_COLUMNS, "No schedules found.")

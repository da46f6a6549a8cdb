"""`stackflow schedule list`: the project's schedules, next run times and last failed ticks."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import click

from stackflow.cli import render
from stackflow.cli.common import config_option, json_option, print_json
from stackflow.definitions.schedules import Schedule
from stackflow.engine.engine import Engine
from stackflow.jsonvalue import format_datetime
from stackflow.project.loader import load_project
from stackflow.shapes import timestamp
from stackflow.store.rows import from_ms

if TYPE_CHECKING:
    from stackflow.store.base import ScheduleState

SCHEDULE_COLUMNS = ("name", "workflow", "cron", "timezone", "nextRunAt")
ERROR_COLUMNS = ("lastErrorAt", "lastError")
"""Shown in the table when a schedule has a failed tick."""


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
    """List schedules with their next run time (UTC) and their last failed tick, if any."""
    project = load_project(config_path)
    states: dict[str, ScheduleState] = {}
    if project.schedules:
        with Engine.for_project(project) as engine:
            states = engine.schedule_states()
    now = datetime.now(UTC)
    rows = [
        schedule_json(item, now, states.get(item.name))
        for item in sorted(project.schedules.values(), key=lambda s: s.name)
    ]
    if as_json:
        print_json(rows)
        return
    failed = any(row["lastError"] is not None for row in rows)
    columns = SCHEDULE_COLUMNS + ERROR_COLUMNS if failed else SCHEDULE_COLUMNS
    render.print_rows(rows, columns, "No schedules found.")


def schedule_json(item: Schedule, now: datetime, state: ScheduleState | None) -> dict[str, Any]:
    """A schedule as `schedule list -j` shows it; `lastError` and `lastErrorAt` are null
    until a tick fails to start (its error stays shown after later ticks succeed)."""
    failed_at = state.last_error_at_ms if state is not None else None
    return {
        "name": item.name,
        "workflow": item.workflow.name,
        "cron": item.cron,
        "timezone": item.timezone,
        "machineUser": item.machine_user,
        "nextRunAt": format_datetime(item.next_tick(now)),
        "lastError": state.last_error if state is not None else None,
        "lastErrorAt": timestamp(from_ms(failed_at)),
    }

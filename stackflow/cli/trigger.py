"""`stackflow trigger list`: the project's record triggers."""

from __future__ import annotations

import click

from stackflow.cli import render
from stackflow.cli.common import config_option, json_option, print_json
from stackflow.definitions.triggers import record_trigger_json
from stackflow.project.loader import load_project

TRIGGER_COLUMNS = ("name", "type", "on", "workflow", "machineUser")


@click.group("trigger", invoke_without_command=True)
@click.pass_context
def trigger(ctx: click.Context) -> None:
    """The project's record triggers."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(list_triggers)


@trigger.command("list")
@config_option
@json_option
def list_triggers(config_path: str | None = None, as_json: bool = False) -> None:
    """List record triggers: the type and operations each watches, the workflow it starts."""
    project = load_project(config_path)
    found = sorted(project.record_triggers.values(), key=lambda item: item.name)
    rows = [record_trigger_json(item) for item in found]
    if as_json:
        print_json(rows)
        return
    shown = [{**row, "on": ", ".join(row["on"])} for row in rows]
    render.print_rows(shown, TRIGGER_COLUMNS, "No record triggers found.")

"""Attaches every command group to the `stackflow` CLI."""

from __future__ import annotations

import click

from stackflow.cli.check import check
from stackflow.cli.db import db
from stackflow.cli.generate import generate
from stackflow.cli.init import init
from stackflow.cli.schedule import schedule
from stackflow.cli.serve import serve
from stackflow.cli.worker import worker
from stackflow.cli.workflow import workflow


def register(cli: click.Group) -> None:
    """Add the commands to `cli` (each module owns its own commands)."""
    if cli.commands:
        return
    for command in (check, db, generate, init, schedule, serve, worker, workflow):
        cli.add_command(command)
    cli.add_command(serve, "ui")

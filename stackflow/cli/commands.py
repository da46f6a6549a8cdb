"""Attaches every command group to the `stackflow` CLI."""

from __future__ import annotations

import click

from stackflow.cli.check import check


def register(cli: click.Group) -> None:
    """Add the commands to `cli` (each module owns its own commands)."""
    if cli.commands:
        return
    cli.add_command(check)

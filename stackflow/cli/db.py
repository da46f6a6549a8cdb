"""`stackflow db copy SRC_URL DST_URL`: move a store's history to another store."""

from __future__ import annotations

import click

from stackflow.cli.common import note
from stackflow.cli.migrate import migrate
from stackflow.store.copy import copy_store


@click.group("db")
def db() -> None:
    """Manage the databases: copy the store's history, migrate TailorDB."""


db.add_command(migrate)


@db.command("copy")
@click.argument("source_url")
@click.argument("destination_url")
@click.option(
    "--force",
    is_flag=True,
    help="Delete everything in a non-empty destination store before copying.",
)
def copy(source_url: str, destination_url: str, force: bool) -> None:
    """Copy every execution, job execution and workflow from SOURCE_URL to DESTINATION_URL.

    Ids, statuses and timestamps are kept. The destination must be empty unless
    --force is given. Stop the workers of both stores first.
    """
    report = copy_store(source_url, destination_url, force=force)
    note(f"Copied {report.summary()} from {report.source} to {report.destination}.")

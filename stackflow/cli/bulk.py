"""`resume --all` and `cancel --all`: the filters, the confirmation and the count."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import click

from stackflow.cli.common import EXIT_FAILED, UsageError, note, print_json
from stackflow.durations import parse_duration

F = TypeVar("F", bound=Callable[..., Any])
LONG_UNITS = ("s", "m", "h", "d")

Change = Callable[..., int]
"""`Engine.resume_all` or `Engine.cancel_all`."""


def long_duration(text: str, option: str) -> float:
    """`90s`, `30m`, `1h` or `30d` in seconds; a UsageError (exit 2) for anything else."""
    try:
        seconds = parse_duration(text, name=option, units=LONG_UNITS, whole=True)
    except ValueError:
        seconds = 0.0
    if seconds <= 0:
        raise UsageError(
            f"Invalid value for {option}: '{text}'. Use a positive <int>s, <int>m, <int>h or "
            "<int>d, e.g. 30m, 1h or 30d."
        )
    return seconds


def bulk_options(function: F) -> F:
    """`--all` with its filters `-n`, `-s`, `--since`, and `-y/--yes`."""
    options = (
        click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation."),
        click.option(
            "--since", metavar="DURATION", help="With --all: created within this long, e.g. 1h."
        ),
        click.option(
            "-s", "--status", "status", help="With --all: only these statuses (comma-separated)."
        ),
        click.option("-n", "--name", "workflow_name", help="With --all: only this workflow."),
        click.option("--all", "all_", is_flag=True, help="Every execution matching the filters."),
    )
    for option in options:
        function = option(function)
    return function


@dataclass(frozen=True)
class BulkRequest:
    """What `--all` and its filters asked for."""

    verb: str
    all_: bool
    workflow_name: str | None
    status: str | None
    since: str | None
    yes: bool

    @property
    def has_filter(self) -> bool:
        """Whether -n, -s or --since was given."""
        return any(value is not None for value in (self.workflow_name, self.status, self.since))

    @property
    def is_bulk(self) -> bool:
        """Whether the command acts on many executions (--all or a filter given)."""
        return self.all_ or self.has_filter or self.yes

    def check(self, execution_id: str | None, *, wait: bool = False) -> None:
        """Refuse an ID with --all, --all without a filter, filters without --all."""
        if execution_id is not None and self.all_:
            raise UsageError(
                f"Give one execution ID, or --all with filters, to {self.verb}: not both."
            )
        if not self.all_:
            raise UsageError(f"-n, -s, --since and -y go with --all: `{self.verb} --all -s ...`.")
        if not self.has_filter:
            raise UsageError(
                f"{self.verb} --all needs at least one filter: -n NAME, -s STATUS or "
                "--since DURATION (e.g. --since 1h)."
            )
        if wait:
            raise UsageError("--wait follows one execution: give its ID, not --all.")


def run_bulk(request: BulkRequest, change: Change, past: str, *, as_json: bool) -> None:
    """Count, confirm on a terminal (unless -y), change, and print how many changed."""
    since = None if request.since is None else long_duration(request.since, "--since")
    filters = (request.workflow_name, request.status)
    matching = change(*filters, since=since, dry_run=True)
    if matching and not request.yes and sys.stdin.isatty():
        question = f"{request.verb.capitalize()} {matching} execution(s)?"
        if not click.confirm(question, default=False, err=True):
            note("Aborted: nothing was changed.")
            sys.exit(EXIT_FAILED)
    changed = change(*filters, since=since) if matching else 0
    if as_json:
        print_json({"count": changed})
    else:
        click.echo(f"{past} {changed} execution(s).")

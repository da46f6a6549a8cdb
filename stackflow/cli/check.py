"""`stackflow check`: load the project and report every rule breach at once."""

from __future__ import annotations

import sys

import click

from stackflow.cli.common import EXIT_FAILED, config_option, json_option, print_json
from stackflow.project.loader import load_project
from stackflow.project.project import Project


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _report_breaches(project: Project, as_json: bool) -> None:
    if as_json:
        print_json([breach.to_dict() for breach in project.breaches])
        return
    for breach in project.breaches:
        click.echo(str(breach), err=True)


def _report_ok(project: Project, as_json: bool) -> None:
    workflows, jobs = len(project.workflows), len(project.jobs)
    if as_json:
        print_json({"ok": True, "workflows": workflows, "jobs": jobs})
    else:
        click.echo(f"OK: {_plural(workflows, 'workflow')}, {_plural(jobs, 'job')}")


@click.command("check")
@config_option
@json_option
def check(config_path: str | None, as_json: bool) -> None:
    """Load the project and report every rule breach (exit 1 if any)."""
    project = load_project(config_path)
    if project.breaches:
        _report_breaches(project, as_json)
        sys.exit(EXIT_FAILED)
    _report_ok(project, as_json)

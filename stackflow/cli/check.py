"""`stackflow check`: load the project and report every rule breach at once."""

from __future__ import annotations

import sys
from typing import Any

import click

from stackflow.cli.common import EXIT_FAILED, config_option, json_option, print_json
from stackflow.definitions.webhooks import Webhook, webhook_json
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


def _webhook_line(webhook: Webhook) -> str:
    unset = "" if webhook.secret() else ", not set"
    return (
        f"  webhook {webhook.name}: POST {webhook.path} starts {webhook.workflow.name} "
        f"(secret from ${webhook.secret_env}{unset})"
    )


def _report_ok(project: Project, as_json: bool) -> None:
    workflows, jobs = len(project.workflows), len(project.jobs)
    webhooks = sorted(project.webhooks.values(), key=lambda webhook: webhook.name)
    if as_json:
        shaped: dict[str, Any] = {"ok": True, "workflows": workflows, "jobs": jobs}
        if webhooks:
            shaped["webhooks"] = [webhook_json(webhook) for webhook in webhooks]
        print_json(shaped)
        return
    counts = f"{_plural(workflows, 'workflow')}, {_plural(jobs, 'job')}"
    if webhooks:
        counts += f", {_plural(len(webhooks), 'webhook')}"
    click.echo(f"OK: {counts}")
    for webhook in webhooks:
        click.echo(_webhook_line(webhook))


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

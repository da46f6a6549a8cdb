"""`stackflow check`: load the project and report every rule breach at once."""

from __future__ import annotations

import sys
from typing import Any

import click

from stackflow.cli.common import EXIT_FAILED, UsageError, config_option, json_option, print_json
from stackflow.definitions.triggers import RecordTrigger, record_trigger_json
from stackflow.definitions.webhooks import Webhook, webhook_json
from stackflow.engine.engine import Engine
from stackflow.project.loader import load_project
from stackflow.project.project import Project
from stackflow.records import ReplayFinding
from stackflow.shapes import replay_finding_json


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


def _trigger_line(trigger: RecordTrigger) -> str:
    user = f" as {trigger.machine_user}" if trigger.machine_user else ""
    condition = " when its condition holds" if trigger.condition is not None else ""
    return (
        f"  record trigger {trigger.name}: {trigger.type_name} {', '.join(trigger.ops)} "
        f"starts {trigger.workflow.name}{user}{condition}"
    )


def _report_ok(project: Project, as_json: bool) -> None:
    workflows, jobs = len(project.workflows), len(project.jobs)
    webhooks = sorted(project.webhooks.values(), key=lambda webhook: webhook.name)
    triggers = sorted(project.record_triggers.values(), key=lambda trigger: trigger.name)
    if as_json:
        shaped: dict[str, Any] = {"ok": True, "workflows": workflows, "jobs": jobs}
        if webhooks:
            shaped["webhooks"] = [webhook_json(webhook) for webhook in webhooks]
        if triggers:
            shaped["triggers"] = [record_trigger_json(trigger) for trigger in triggers]
        if project.warnings:
            shaped["warnings"] = [warning.to_dict() for warning in project.warnings]
        print_json(shaped)
        return
    for warning in project.warnings:
        click.echo(warning.as_warning(), err=True)
    counts = f"{_plural(workflows, 'workflow')}, {_plural(jobs, 'job')}"
    if webhooks:
        counts += f", {_plural(len(webhooks), 'webhook')}"
    if triggers:
        counts += f", {_plural(len(triggers), 'record trigger')}"
    click.echo(f"OK: {counts}")
    for webhook in webhooks:
        click.echo(_webhook_line(webhook))
    for trigger in triggers:
        click.echo(_trigger_line(trigger))


@click.command("check")
@click.option(
    "--replay",
    is_flag=True,
    help="Also replay every execution that may still run against this code (writes nothing).",
)
@click.option("-n", "--name", "workflow_name", help="With --replay: only this workflow.")
@config_option
@json_option
def check(config_path: str | None, replay: bool, workflow_name: str | None, as_json: bool) -> None:
    """Load the project and report every rule breach (exit 1 if any); warn about jobs no
    workflow reaches; with --replay, also report every execution whose replay under this
    code would hit non-determinism."""
    if workflow_name is not None and not replay:
        raise UsageError("-n/--name goes with --replay: `stackflow check --replay -n NAME`.")
    project = load_project(config_path, import_failures_as_breaches=True)
    if project.breaches:
        _report_breaches(project, as_json)
        sys.exit(EXIT_FAILED)
    if replay:
        _check_replay(project, workflow_name, as_json)
        return
    _report_ok(project, as_json)


def _check_replay(project: Project, workflow_name: str | None, as_json: bool) -> None:
    with Engine.for_project(project) as engine:
        findings = engine.check_replay(workflow_name)
    if as_json:
        print_json([replay_finding_json(finding) for finding in findings])
    else:
        _report_ok(project, as_json)
        _print_findings(findings)
    if findings:
        sys.exit(EXIT_FAILED)


def _print_findings(findings: list[ReplayFinding]) -> None:
    if not findings:
        click.echo("Replay: no execution would hit non-determinism.")
        return
    click.echo(f"Replay: {_plural(len(findings), 'execution')} would hit non-determinism:")
    for finding in findings:
        where = finding.stacked_job_name or "-"
        click.echo(f"  {finding.execution_id} ({finding.workflow_name}) in {where}:")
        click.echo(f"    {finding.message}")

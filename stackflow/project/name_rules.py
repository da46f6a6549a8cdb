"""Job and workflow names follow one grammar: a breach for each name that does not."""

from __future__ import annotations

from collections.abc import Iterable

from stackflow.definitions.jobs import WorkflowJob
from stackflow.definitions.names import NAME_GRAMMAR, follows_name_grammar
from stackflow.definitions.workflows import Workflow
from stackflow.project.rules import VALID_NAMES, Breach, Locator


def name_breaches(
    jobs: Iterable[WorkflowJob], workflows: Iterable[Workflow], locator: Locator
) -> list[Breach]:
    """A breach for each job and workflow whose name does not follow NAME_GRAMMAR."""
    breaches = [_breach("job", job.name, locator.job(job)) for job in jobs]
    breaches += [_breach("workflow", wf.name, locator.workflow(wf)) for wf in workflows]
    return [breach for breach in breaches if breach is not None]


def _breach(kind: str, name: str, location: tuple[str | None, int | None]) -> Breach | None:
    if follows_name_grammar(name):
        return None
    message = f"{kind} name {name!r} is not valid: a name {NAME_GRAMMAR}; rename it"
    return Breach(VALID_NAMES, message, *location)

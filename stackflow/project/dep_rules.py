"""A job's body calls through `ctx.jobs` only the jobs among its deps."""

from __future__ import annotations

from collections.abc import Iterable

from stackflow.definitions.deps import JobsProxy
from stackflow.definitions.jobs import WorkflowJob
from stackflow.project.reachability import DepReference, dep_references
from stackflow.project.rules import JOB_CALLS_ARE_DEPS, Breach, Locator


def undeclared_dep_breaches(jobs: Iterable[WorkflowJob], locator: Locator) -> list[Breach]:
    """A breach for each `ctx.jobs.<name>` in a body that names none of the job's deps."""
    breaches: list[Breach] = []
    for job in jobs:
        deps = JobsProxy(job.deps, caller_is_async=False, owner=job.name)
        file = locator.job(job)[0]
        for reference in dict.fromkeys(dep_references(job)):
            if not _is_dep(deps, reference):
                breaches.append(_breach(job, reference, file, locator))
    return breaches


def _is_dep(deps: JobsProxy, reference: DepReference) -> bool:
    try:
        if reference.subscript:
            deps[reference.name]
        else:
            getattr(deps, reference.name)
    except (AttributeError, KeyError):
        return False
    return True


def _breach(
    job: WorkflowJob, reference: DepReference, file: str | None, locator: Locator
) -> Breach:
    listed = ", ".join(repr(dep.name) for dep in job.deps) or "none"
    message = (
        f"job {job.name!r} calls {reference} at {locator.place((file, reference.line))}, "
        f"but {reference.name!r} is not one of its deps ({listed}): add that job to the "
        f"deps of job {job.name!r} (deps=[...])"
    )
    return Breach(JOB_CALLS_ARE_DEPS, message, file, reference.line)

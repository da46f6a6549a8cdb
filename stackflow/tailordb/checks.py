"""Load-time checks of transactional jobs against the project's TailorDB namespaces."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from stackflow.config import ProjectConfig

if TYPE_CHECKING:
    from stackflow.definitions.jobs import WorkflowJob

TRANSACTIONAL_RULE = "transactional-job"


def transactional_namespace(config: ProjectConfig, job: WorkflowJob) -> tuple[str | None, str]:
    """(the namespace a transactional job runs in, or None; why not when None)."""
    wanted = job.transactional
    names = sorted(config.db)
    if isinstance(wanted, str):
        if wanted not in config.db:
            known = ", ".join(names) or "none"
            return None, f"names namespace {wanted!r}, which is not declared (namespaces: {known})"
        return wanted, ""
    if not names:
        return None, "but the project declares no TailorDB namespace ([db.<name>])"
    if len(names) > 1:
        return None, (
            f"but the project has several namespaces ({', '.join(names)}): "
            f"pick one with transactional={names[0]!r}"
        )
    return names[0], ""


def transactional_problem(config: ProjectConfig, job: WorkflowJob) -> str | None:
    """Why `job` cannot be transactional in this project, or None when it can."""
    name, why = transactional_namespace(config, job)
    declared = f"job '{job.name}' is declared transactional={job.transactional!r}"
    if name is None:
        return f"{declared} {why}"
    database = config.db[name].database or config.database_url
    if database != config.database_url:
        return (
            f"{declared}, but namespace '{name}' lives in {database}, not in the store's "
            f"database {config.database_url}: the job's writes and its checkpoint cannot "
            "commit in one transaction there; remove transactional=..., or drop the "
            f"namespace's own 'database' so it shares the store's"
        )
    return None


def transactional_problems(
    config: ProjectConfig, jobs: Iterable[WorkflowJob]
) -> list[tuple[WorkflowJob, str]]:
    """Every transactional job of `jobs` that cannot run as declared, with the reason."""
    found = []
    for job in jobs:
        if job.transactional:
            problem = transactional_problem(config, job)
            if problem is not None:
                found.append((job, problem))
    return found

"""A workflow's jobs as a graph: each job's version, its deps and the jobs its body triggers."""

from __future__ import annotations

from typing import Any

from stackflow.engine.engine import Engine
from stackflow.project.reachability import reachable_jobs, triggered_jobs


def workflow_graph(engine: Engine, name: str) -> dict[str, Any]:
    """`{name, mainJob, jobs: [{name, version, deps, triggers}]}`, main job first."""
    workflow = engine.get_workflow(name)
    jobs = []
    for job in reachable_jobs(workflow.main_job):
        jobs.append(
            {
                "name": job.name,
                "version": job.version,
                "deps": [dep.name for dep in job.deps],
                "triggers": [callee.name for callee in triggered_jobs(job)],
            }
        )
    return {"name": workflow.name, "mainJob": workflow.main_job.name, "jobs": jobs}

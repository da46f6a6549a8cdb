"""A loaded project: its config, workflow files, workflows, jobs, schedules and breaches."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from stackflow.config import ProjectConfig
from stackflow.definitions.jobs import WorkflowJob
from stackflow.definitions.schedules import Schedule
from stackflow.definitions.webhooks import Webhook
from stackflow.definitions.workflows import Workflow
from stackflow.errors import ProjectLoadError, UnknownWorkflow
from stackflow.project.reachability import reachable_jobs
from stackflow.project.rules import Breach

if TYPE_CHECKING:
    from stackflow.tailordb.registry import TailorDB


@dataclass
class Project:
    """A loaded project: its config, workflow files, workflows, jobs and rule breaches."""

    config: ProjectConfig
    files: list[Path]
    modules: list[ModuleType]
    workflows: dict[str, Workflow]
    jobs: dict[str, WorkflowJob]
    breaches: list[Breach]
    tailordb: TailorDB | None = None
    schedules: dict[str, Schedule] = field(default_factory=dict)
    webhooks: dict[str, Webhook] = field(default_factory=dict)
    _job_functions: dict[int, dict[str, WorkflowJob]] = field(default_factory=dict, repr=False)

    @property
    def root(self) -> Path:
        """The project's root directory (where stackflow.toml is)."""
        return self.config.root

    def job_functions(self, workflow: Workflow | str) -> dict[str, WorkflowJob]:
        """The jobs `workflow` can reach, by name, main job first."""
        if isinstance(workflow, str):
            workflow = self.get_workflow(workflow)
        cached = self._job_functions.get(id(workflow))
        if cached is None:
            cached = {}
            for job in reachable_jobs(workflow.main_job):
                cached.setdefault(job.name, job)
            self._job_functions[id(workflow)] = cached
        return cached

    def find_workflow(self, name: str) -> Workflow | None:
        """The workflow called `name`, or None."""
        return self.workflows.get(name)

    def get_workflow(self, name: str) -> Workflow:
        """The workflow called `name`; UnknownWorkflow lists the known names if there is none."""
        workflow = self.find_workflow(name)
        if workflow is None:
            raise UnknownWorkflow.named(name, self.workflows)
        return workflow

    def raise_for_breaches(self) -> None:
        """Raise ProjectLoadError naming the first breach (and the count) if there is any."""
        if self.breaches:
            more = len(self.breaches) - 1
            suffix = f" (and {more} more; run `stackflow check`)" if more else ""
            raise ProjectLoadError(f"{self.breaches[0]}{suffix}")

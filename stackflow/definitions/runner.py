"""The running job: the protocol `job.trigger` calls into, and the ContextVar that holds it."""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from stackflow.definitions.handles import JobHandle
    from stackflow.definitions.jobs import WorkflowJob


class JobRunner(Protocol):
    """What `job.trigger` and `job.start` call while a job is running."""

    def call_child(self, job: WorkflowJob, input: Any) -> Any:
        """Run `job` as a child of the running job and return its result."""
        ...

    def start_child(self, job: WorkflowJob, input: Any) -> JobHandle:
        """Start `job` as a child of the running job, in parallel."""
        ...


current_runner: ContextVar[JobRunner | None] = ContextVar("stackflow_current_runner", default=None)
"""The job running in this context (an engine job or a local one), if any."""

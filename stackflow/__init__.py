"""stackflow: durable workflows for Python: jobs that call jobs, every result checkpointed."""

from stackflow.context import JobContext, JobHandle
from stackflow.definitions import (
    Workflow,
    WorkflowJob,
    create_workflow,
    create_workflow_job,
    workflow_job,
)
from stackflow.errors import (
    DefinitionError,
    ExecutionNotFound,
    JobFailed,
    NonDeterminismError,
    NotResumable,
    StackflowError,
)

__all__ = [
    "DefinitionError",
    "ExecutionNotFound",
    "JobContext",
    "JobFailed",
    "JobHandle",
    "NonDeterminismError",
    "NotResumable",
    "StackflowError",
    "Workflow",
    "WorkflowJob",
    "create_workflow",
    "create_workflow_job",
    "workflow_job",
]

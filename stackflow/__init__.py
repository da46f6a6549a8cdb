"""stackflow: durable workflows for Python: jobs that call jobs, every result checkpointed."""

from stackflow.definitions.context import JobContext
from stackflow.definitions.handles import JobHandle
from stackflow.definitions.jobs import WorkflowJob, create_workflow_job, workflow_job
from stackflow.definitions.policies import ConcurrencyPolicy, RetryPolicy
from stackflow.definitions.schedules import Schedule, create_schedule
from stackflow.definitions.waitpoints import WaitPoint, create_wait_point
from stackflow.definitions.webhooks import Webhook, create_webhook
from stackflow.definitions.workflows import Workflow, create_workflow
from stackflow.engine.engine import Engine
from stackflow.errors import (
    DefinitionError,
    ExecutionNotFound,
    JobFailed,
    JobTimeout,
    NonDeterminismError,
    NotCancelable,
    NotResumable,
    StackflowError,
    WaitPointError,
)
from stackflow.records import Execution, ExecutionStatus, JobExecution, JobStatus

__all__ = [
    "ConcurrencyPolicy",
    "DefinitionError",
    "Engine",
    "Execution",
    "ExecutionNotFound",
    "ExecutionStatus",
    "JobContext",
    "JobExecution",
    "JobFailed",
    "JobHandle",
    "JobStatus",
    "JobTimeout",
    "NonDeterminismError",
    "NotCancelable",
    "NotResumable",
    "RetryPolicy",
    "Schedule",
    "StackflowError",
    "WaitPoint",
    "WaitPointError",
    "Webhook",
    "Workflow",
    "WorkflowJob",
    "create_schedule",
    "create_wait_point",
    "create_webhook",
    "create_workflow",
    "create_workflow_job",
    "workflow_job",
]

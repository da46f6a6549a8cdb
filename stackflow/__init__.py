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
    JobTimeout,
    NonDeterminismError,
    NotCancelable,
    NotResumable,
    StackflowError,
    WaitPointError,
)
from stackflow.executions import Engine
from stackflow.policies import ConcurrencyPolicy, RetryPolicy
from stackflow.records import Execution, ExecutionStatus, JobExecution, JobStatus
from stackflow.schedules import Schedule, create_schedule
from stackflow.waitpoints import WaitPoint, create_wait_point
from stackflow.webhooks import Webhook, create_webhook

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

"""The JSON shapes of records, shared by the CLI's `-j` output and the web API (camelCase)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from stackflow.jsonvalue import format_datetime
from stackflow.records import (
    Execution,
    ExecutionStatus,
    JobExecution,
    WorkflowDetail,
    WorkflowSummary,
)


def timestamp(value: datetime | None) -> str | None:
    """UTC `YYYY-MM-DDTHH:MM:SS.mmmZ`, or None."""
    return None if value is None else format_datetime(value)


def execution_json(execution: Execution, *, with_jobs: bool = False) -> dict[str, Any]:
    """`{id, workflowName, status, jobExecutions, startedAt, finishedAt, arg, result, ...}`."""
    shaped: dict[str, Any] = {
        "id": execution.id,
        "workflowName": execution.workflow_name,
        "status": str(execution.status),
        "jobExecutions": execution.job_execution_count,
        "startedAt": timestamp(execution.started_at),
        "finishedAt": timestamp(execution.finished_at),
        "arg": execution.arg,
        "result": execution.result,
        "error": execution.error,
        "invoker": execution.invoker,
    }
    if execution.waiting_for is not None:
        waiting = execution.waiting_for
        shaped["waitingFor"] = {"key": waiting.key, "payload": waiting.payload}
    elif execution.status == ExecutionStatus.WAITING and execution.wake_at is not None:
        shaped["wakeAt"] = timestamp(execution.wake_at)
    if with_jobs:
        shaped["jobDetails"] = [job_json(job) for job in execution.job_executions]
    return shaped


def job_json(job: JobExecution) -> dict[str, Any]:
    """One entry of `jobDetails` (with `attempt` and `input` added to the TypeScript keys)."""
    return {
        "id": job.id,
        "stackedJobName": job.stacked_job_name,
        "status": str(job.status),
        "executionId": job.execution_id,
        "attempt": job.attempt,
        "startedAt": timestamp(job.started_at),
        "finishedAt": timestamp(job.finished_at),
        "input": job.input,
        "logs": job.logs,
        "result": job.result,
        "error": job.error,
    }


def workflow_summary_json(summary: WorkflowSummary) -> dict[str, Any]:
    """One entry of `workflow list`: `{name, mainJob, jobFunctions: <count>, updatedAt}`."""
    return {
        "name": summary.name,
        "mainJob": summary.main_job,
        "jobFunctions": summary.job_count,
        "updatedAt": timestamp(summary.updated_at),
    }


def workflow_json(detail: WorkflowDetail) -> dict[str, Any]:
    """`workflow get`: `{name, id, mainJob, jobFunctions: {job: version}, createdAt, updatedAt}`.

    `otherVersions` (job name → versions other than the current one that job
    executions of this workflow ran) is added only when there are any.
    """
    record = detail.record
    shaped: dict[str, Any] = {
        "name": record.name,
        "id": record.id,
        "mainJob": record.main_job,
        "jobFunctions": dict(record.job_versions),
        "createdAt": timestamp(record.created_at),
        "updatedAt": timestamp(record.updated_at),
    }
    if detail.other_versions:
        shaped["otherVersions"] = {job: list(v) for job, v in detail.other_versions.items()}
    return shaped

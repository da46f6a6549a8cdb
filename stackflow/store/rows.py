"""Turning stored rows into records, shared by every backend."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from stackflow.jsonvalue import decode
from stackflow.records import (
    ErrorInfo,
    Execution,
    ExecutionStatus,
    Invoker,
    JobExecution,
    JobStatus,
    WaitingFor,
    WorkflowRecord,
)
from stackflow.store.base import JobRow, Lease, WaitRow

R = TypeVar("R")

UNFINISHED_JOB_STATUSES = (JobStatus.RUNNING, JobStatus.WAITING)
"""Job executions that have not finished: their parents show as SUSPEND."""


def from_ms(value: int | None) -> datetime | None:
    """Epoch milliseconds → aware UTC datetime."""
    if value is None:
        return None
    return datetime.fromtimestamp(value / 1000, tz=UTC)


def _load(text: str | None) -> Any:
    return None if text is None else decode(text)


_JOB_STATUSES = {status.value: status for status in JobStatus}


def execution_from_row(row: Sequence[Any], jobs: Sequence[JobRow] = ()) -> Execution:
    """Build an Execution from a row of `queries.EXECUTION_COLUMNS`."""
    (id_, workflow_name, status, invoker, created_at, started_at, finished_at) = row[:7]
    (arg, result, error, wake_at, cancel_requested, job_count) = row[7:13]
    restarted_from, wait_key, wait_payload = row[13:16]
    return Execution(
        id=id_,
        workflow_name=workflow_name,
        status=ExecutionStatus(status),
        arg=_load(arg),
        result=_load(result),
        error=_load(error),
        invoker=_load(invoker),
        started_at=from_ms(started_at),
        finished_at=from_ms(finished_at),
        job_executions=tuple(job_executions_from_rows(jobs)),
        created_at=from_ms(created_at),
        job_execution_count=int(job_count),
        wake_at=from_ms(wake_at),
        cancel_requested=bool(cancel_requested),
        restarted_from=restarted_from,
        waiting_for=None if wait_key is None else waiting_for(wait_key, wait_payload),
    )


def job_executions_from_rows(rows: Sequence[JobRow]) -> list[JobExecution]:
    """JobExecution records; a running job with an unfinished child shows as SUSPEND."""
    unfinished = [r.call_path for r in rows if r.status in UNFINISHED_JOB_STATUSES]
    return [_job_execution(row, _has_unfinished_child(row, unfinished)) for row in rows]


def _has_unfinished_child(row: JobRow, unfinished: list[str]) -> bool:
    if row.status != JobStatus.RUNNING:
        return False
    prefix = f"{row.call_path}." if row.call_path else ""
    return any(p != row.call_path and p.startswith(prefix) for p in unfinished)


def _job_execution(row: JobRow, suspended: bool) -> JobExecution:
    error: ErrorInfo | None = _load(row.error_json)
    return _record(
        JobExecution,
        {
            "id": row.id,
            "stacked_job_name": row.stacked_job_name,
            "job_name": row.job_name,
            "status": JobStatus.SUSPEND if suspended else row.status,
            "attempt": row.attempt,
            "input": _load(row.input_json),
            "result": _load(row.result_json),
            "error": error,
            "logs": row.logs,
            "started_at": from_ms(row.started_at_ms),
            "finished_at": from_ms(row.finished_at_ms),
            "execution_id": row.execution_id,
            "call_path": row.call_path,
            "version": row.version,
        },
    )


def _record(cls: type[R], fields: dict[str, Any]) -> R:
    """An instance of the frozen dataclass `cls` from every one of its fields.

    The same object the generated `__init__` makes, built in a third of its time (that
    `__init__` sets each field through `object.__setattr__`; an execution is read with
    thousands of job executions). Only for dataclasses without `__post_init__` or slots.
    """
    record = object.__new__(cls)
    record.__dict__.update(fields)
    return record


def job_row(row: Sequence[Any]) -> JobRow:
    """A JobRow from a row of `queries.JOB_COLUMNS`."""
    job = JobRow(*row)
    job.status = _JOB_STATUSES[row[4]]  # the text as stored becomes its enum member
    return job


def lease(row: Sequence[Any], owner: str) -> Lease:
    """The Lease of a claimed execution from a row of `queries.LEASE_COLUMNS` followed by
    whether the claim took it over from an expired lease and when it became runnable."""
    id_, workflow_name, fence, arg, invoker, retries, run_count, cancel_requested = row[:8]
    trace_context, taken_over, runnable_since = row[9:12]
    return Lease(
        id_,
        workflow_name,
        owner,
        int(fence),
        arg,
        invoker,
        int(retries),
        first_run=run_count == 1,
        cancel_requested=bool(cancel_requested),
        trace_context=trace_context,
        taken_over=bool(taken_over),
        runnable_since_ms=None if runnable_since is None else int(runnable_since),
    )


def workflow_record(row: Sequence[Any]) -> WorkflowRecord:
    """A WorkflowRecord from (name, id, main_job, job_versions, created_at, updated_at)."""
    name, id_, main_job, versions, created_at, updated_at = row
    return WorkflowRecord(
        name=name,
        id=id_,
        main_job=main_job,
        job_versions=json.loads(versions),
        created_at=from_ms(created_at) or datetime.now(UTC),
        updated_at=from_ms(updated_at) or datetime.now(UTC),
    )


def wait_row(row: Sequence[Any]) -> WaitRow:
    """A WaitRow from a row of `queries.WAIT_COLUMNS`."""
    return WaitRow(*row)


def waiting_for(key: str, payload: str | None) -> WaitingFor:
    """The wait point a WAITING execution waits at, from a wait row's key and payload."""
    return WaitingFor(key=key, payload=_load(payload))


def invoker_json(invoker: Invoker | None) -> str | None:
    """Canonical JSON text of an invoker."""
    return None if invoker is None else json.dumps(invoker, sort_keys=True)


def error_info(error: ErrorInfo) -> str:
    """JSON text of an error record."""
    return json.dumps(error, sort_keys=True)


def versions_by_job(found: Sequence[Sequence[Any]]) -> dict[str, set[str]]:
    """(job name, version) rows → job name → the versions it ran."""
    used: dict[str, set[str]] = {}
    for job_name, version in found:
        if version:
            used.setdefault(job_name, set()).add(version)
    return used

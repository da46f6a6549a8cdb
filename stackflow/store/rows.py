"""Turning stored rows into records, shared by every backend."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from stackflow.jsonvalue import decode
from stackflow.records import (
    ErrorInfo,
    Execution,
    ExecutionStatus,
    Invoker,
    JobExecution,
    JobStatus,
    WorkflowRecord,
)
from stackflow.store.base import JobRow, WaitRow

UNFINISHED_JOB_STATUSES = ("RUNNING", "SUSPEND", "WAITING")


def from_ms(value: int | None) -> datetime | None:
    """Epoch milliseconds → aware UTC datetime."""
    if value is None:
        return None
    return datetime.fromtimestamp(value / 1000, tz=UTC)


def _load(text: str | None) -> Any:
    return None if text is None else decode(text)


_JOB_STATUSES = {status.value: status for status in JobStatus}


EXECUTION_SELECT = (
    "SELECT e.id, e.workflow_name, e.status, e.invoker, e.created_at, e.started_at, "
    "e.finished_at, p.arg, p.result, p.error, e.wake_at, e.cancel_requested, "
    "(SELECT count(*) FROM job_executions j WHERE j.execution_id = e.id) "
    "FROM executions e JOIN execution_payloads p ON p.execution_id = e.id"
)
"""Every backend selects executions with this, then adds its WHERE and ORDER BY."""


def execution_from_row(row: Sequence[Any], jobs: Sequence[JobRow] = ()) -> Execution:
    """Build an Execution from a row selected by EXECUTION_SELECT."""
    (id_, workflow_name, status, invoker, created_at, started_at, finished_at) = row[:7]
    arg, result, error, wake_at, cancel_requested, job_count = row[7:13]
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
    )


def job_executions_from_rows(rows: Sequence[JobRow]) -> list[JobExecution]:
    """JobExecution records; a running job with an unfinished child shows as SUSPEND."""
    unfinished = [r.call_path for r in rows if r.status in UNFINISHED_JOB_STATUSES]
    return [_job_execution(row, _has_unfinished_child(row, unfinished)) for row in rows]


def _has_unfinished_child(row: JobRow, unfinished: list[str]) -> bool:
    if row.status != "RUNNING":
        return False
    prefix = f"{row.call_path}." if row.call_path else ""
    return any(p != row.call_path and p.startswith(prefix) for p in unfinished)


def _job_execution(row: JobRow, suspended: bool) -> JobExecution:
    error: ErrorInfo | None = _load(row.error_json)
    return JobExecution(
        id=row.id,
        stacked_job_name=row.stacked_job_name,
        job_name=row.job_name,
        status=JobStatus.SUSPEND if suspended else _JOB_STATUSES[row.status],
        attempt=row.attempt,
        input=_load(row.input_json),
        result=_load(row.result_json),
        error=error,
        logs=row.logs,
        started_at=from_ms(row.started_at_ms),
        finished_at=from_ms(row.finished_at_ms),
        execution_id=row.execution_id,
        call_path=row.call_path,
        version=row.version,
    )


JOB_COLUMNS = (
    "j.id, j.execution_id, j.call_path, j.job_name, j.stacked_job_name, j.status, j.attempt, "
    "j.version, j.started_at, j.finished_at, p.input, p.result, p.error, p.logs, p.failure_cause, "
    "j.seq, j.payload_id"
)


def job_row(row: Sequence[Any]) -> JobRow:
    """A JobRow from the columns named in JOB_COLUMNS."""
    return JobRow(*row)


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
    """A WaitRow from the columns named in WAIT_COLUMNS."""
    return WaitRow(*row)


WAIT_COLUMNS = (
    "execution_id, call_path, kind, wait_key, payload, result, wake_at, created_at, resolved_at"
)


def invoker_json(invoker: Invoker | None) -> str | None:
    """Canonical JSON text of an invoker."""
    return None if invoker is None else json.dumps(invoker, sort_keys=True)


def error_info(error: ErrorInfo) -> str:
    """JSON text of an error record."""
    return json.dumps(error, sort_keys=True)


WORKFLOW_SELECT = (
    "SELECT name, id, main_job, job_versions, created_at, updated_at FROM workflows ORDER BY name"
)
VERSIONS_USED_SELECT = (
    "SELECT DISTINCT j.job_name, j.version FROM job_executions j "
    "JOIN executions e ON e.id = j.execution_id WHERE e.workflow_name = {p}"
)
"""Job versions recorded for one workflow; `{p}` is the backend's placeholder."""


def versions_by_job(found: Sequence[Sequence[Any]]) -> dict[str, set[str]]:
    """(job name, version) rows → job name → the versions it ran."""
    used: dict[str, set[str]] = {}
    for job_name, version in found:
        if version:
            used.setdefault(job_name, set()).add(version)
    return used

"""Records read back from the store: Execution, JobExecution, statuses, workflow registry rows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, TypedDict

from stackflow.errors import InvalidArgument


class ExecutionStatus(StrEnum):
    """The status of an execution; compares equal to its name."""

    PENDING = "PENDING"
    PENDING_RESUME = "PENDING_RESUME"
    PENDING_RETRY = "PENDING_RETRY"
    RUNNING = "RUNNING"
    WAITING = "WAITING"
    SUCCESS = "SUCCESS"
    FAILED = "FAILED"
    CANCELED = "CANCELED"

    @property
    def is_final(self) -> bool:
        """SUCCESS, FAILED or CANCELED: nothing runs until a resume."""
        return self in (ExecutionStatus.SUCCESS, ExecutionStatus.FAILED, ExecutionStatus.CANCELED)


def parse_statuses(value: str | Sequence[str] | None) -> list[ExecutionStatus]:
    """Statuses as users write them (any case; a comma-separated string or a list).

    Raises InvalidArgument naming the valid values for an unknown one, or for a string
    that names none (`""`, `","`): an empty filter is a mistake, not "every status".
    """
    parts = value.split(",") if isinstance(value, str) else list(value or [])
    statuses = []
    for part in (str(part).strip() for part in parts):
        if not part:
            continue
        if part.upper() not in ExecutionStatus.__members__:
            raise InvalidArgument(f"Invalid status: {part}. Valid values: {_valid_statuses()}")
        statuses.append(ExecutionStatus[part.upper()])
    if isinstance(value, str) and not statuses:
        raise InvalidArgument(
            f"Invalid status: {value!r} names no status. Valid values: {_valid_statuses()}"
        )
    return statuses


def _valid_statuses() -> str:
    return ", ".join(status.value for status in ExecutionStatus)


class JobStatus(StrEnum):
    """The status of a job execution; compares equal to its name."""

    RUNNING = "RUNNING"
    SUSPEND = "SUSPEND"
    WAITING = "WAITING"
    SUCCESS = "SUCCESS"
    FAILED = "FAILED"
    CANCELED = "CANCELED"
    """Stopped by a cancel of its execution."""


RESUMABLE_STATUSES = frozenset(
    {ExecutionStatus.FAILED, ExecutionStatus.PENDING_RESUME, ExecutionStatus.PENDING_RETRY}
)


class Invoker(TypedDict):
    """The machine user an execution runs as."""

    id: str
    type: str
    attributes: dict[str, Any]


class ErrorInfo(TypedDict, total=False):
    """An error as stored: type, message, traceback and the job that raised it."""

    type: str
    message: str
    traceback: str
    stackedJobName: str


@dataclass(frozen=True)
class JobExecution:
    """One attempt of one job in an execution."""

    id: str
    stacked_job_name: str
    job_name: str
    status: JobStatus
    attempt: int
    input: Any
    result: Any
    error: ErrorInfo | None
    logs: str
    started_at: datetime | None
    finished_at: datetime | None
    execution_id: str = ""
    call_path: str = ""
    version: str | None = None


@dataclass(frozen=True)
class WaitingFor:
    """The wait point a WAITING execution waits at, and the payload its job gave it."""

    key: str
    payload: Any


@dataclass(frozen=True)
class Execution:
    """One run of a workflow, with its job executions (oldest first)."""

    id: str
    workflow_name: str
    status: ExecutionStatus
    arg: Any
    result: Any
    error: ErrorInfo | None
    invoker: Invoker | None
    started_at: datetime | None
    finished_at: datetime | None
    job_executions: tuple[JobExecution, ...] = ()
    created_at: datetime | None = None
    job_execution_count: int = 0
    wake_at: datetime | None = None
    cancel_requested: bool = False
    restarted_from: str | None = None
    """The id of the execution this one restarts (`workflow restart`), if any."""
    waiting_for: WaitingFor | None = None
    """Of a WAITING execution: the wait point it waits at (None while it sleeps)."""

    @property
    def is_settled(self) -> bool:
        """Whether waiting for it is over: a final status, or WAITING on a wait point.

        A durable sleep (WAITING with a wake time) is not settled: it resumes by itself.
        """
        if self.status == ExecutionStatus.WAITING:
            return self.wake_at is None
        return self.status.is_final


@dataclass(frozen=True)
class WorkflowRecord:
    """A workflow as the store's registry last saw it."""

    name: str
    id: str
    main_job: str
    job_versions: dict[str, str]
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class WorkflowSummary:
    """A workflow of the project as `workflow list` shows it."""

    name: str
    main_job: str
    job_count: int
    updated_at: datetime | None


@dataclass(frozen=True)
class WorkflowDetail:
    """A workflow as the registry knows it, with the other job versions its executions ran."""

    record: WorkflowRecord
    other_versions: dict[str, list[str]]


@dataclass(frozen=True)
class ReplayFinding:
    """An execution whose replay under the current code would hit non-determinism
    (`check --replay`); `stacked_job_name` is None when no job of it can run at all."""

    execution_id: str
    workflow_name: str
    stacked_job_name: str | None
    message: str

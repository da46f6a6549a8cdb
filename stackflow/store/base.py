"""The store seam: the operations the engine needs, and the rows they exchange."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from stackflow.clock import job_execution_id
from stackflow.records import Execution, ExecutionStatus, JobStatus, WorkflowRecord

WORKER_LOST_ERROR = "stackflow.WorkerLost"
"""Error type recorded on a job whose process died before the job finished."""


@dataclass(frozen=True)
class Lease:
    """Ownership of a claimed execution; every write is fenced by `fence`."""

    execution_id: str
    workflow_name: str
    owner: str
    fence: int
    arg_json: str
    invoker_json: str | None
    retries: int = 0
    first_run: bool = False
    """True when this is the execution's first claim: it has no history to load."""
    cancel_requested: bool = False
    """Whether a cancel was requested when the execution was claimed."""
    trace_context: str | None = None
    """The trace context stored with the execution (see `telemetry`), if any."""
    taken_over: bool = False
    """True when this claim took the execution from an owner whose lease had expired."""
    runnable_since_ms: int | None = None
    """When the execution became runnable: started, resumed, released, due, or its lease
    expired (the store's clock)."""


@dataclass
class JobRow:
    """A job execution as written and read by the engine (JSON kept as text).

    `seq` numbers the job executions of one execution in the order they started;
    (execution_id, seq) is the row's key, and the job execution's id derives from it.
    """

    execution_id: str
    call_path: str
    job_name: str
    stacked_job_name: str
    status: JobStatus
    attempt: int
    version: str | None
    started_at_ms: int
    finished_at_ms: int | None = None
    input_json: str = "{}"
    result_json: str | None = None
    error_json: str | None = None
    logs: str = ""
    failure_cause: str | None = None
    seq: int = 0

    @property
    def id(self) -> str:
        """The job execution's id: a UUID derived from (execution_id, seq), never stored."""
        return job_execution_id(self.execution_id, self.seq)


@dataclass(frozen=True)
class NewExecution:
    """What `create_execution` needs to insert one PENDING execution."""

    id: str
    workflow_name: str
    arg_json: str
    invoker_json: str | None
    idempotency_key: str | None
    created_at_ms: int
    trigger_depth: int = 0
    """How many record triggers led to this execution (0: started otherwise)."""
    trace_context: str | None = None
    """The W3C trace context of the code that started it (JSON), when tracing is on."""


@dataclass
class WaitRow:
    """A wait point or durable sleep reached by a job, at its call path."""

    execution_id: str
    call_path: str
    kind: str
    key: str | None
    payload_json: str | None
    result_json: str | None
    wake_at_ms: int | None
    created_at_ms: int
    resolved_at_ms: int | None = None


WAIT_POINT = "wait_point"
SLEEP = "sleep"
PATCH = "patch"
"""A `ctx.patched(change_id)` marker: the job took the new code path at this position."""


@dataclass(frozen=True)
class ExecutionFilter:
    """Which executions a bulk operation (resume, cancel, prune) acts on; None: any."""

    workflow_name: str | None = None
    statuses: tuple[ExecutionStatus, ...] = ()
    created_from_ms: int | None = None
    """Only executions created at or after this time (`--since`)."""
    created_before_ms: int | None = None
    """Only executions created before this time (those that existed when the operation began)."""
    finished_before_ms: int | None = None
    """Only executions that finished before this time (`prune --older-than`)."""


Cursor = str
"""The id of the last execution a batch looked at: the next batch starts after it (ids are
time-ordered, so batches go oldest first)."""


@dataclass(frozen=True)
class Batch:
    """One batch of a bulk change: how many executions changed, and where the next one starts.

    `cursor` is None when no execution was left to look at.
    """

    changed: int
    cursor: Cursor | None


@dataclass(frozen=True)
class PruneBatch:
    """What one prune transaction deleted; `cursor` as in Batch."""

    executions: int
    job_executions: int
    waits: int
    cursor: Cursor | None


@dataclass(frozen=True)
class ClaimLimits:
    """Caps on running executions: project-wide and per workflow."""

    max_running: int | None = None
    per_workflow: Mapping[str, int] = field(default_factory=dict)


NO_LIMITS = ClaimLimits()


@dataclass(frozen=True)
class WorkflowEntry:
    """A workflow as loaded now, for the registry."""

    name: str
    main_job: str
    job_versions: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PendingWork:
    """The executions of one workflow waiting for a worker (PENDING or PENDING_RESUME)."""

    workflow_name: str
    count: int
    waiting_since_ms: int
    """When the one waiting longest became runnable."""


@dataclass(frozen=True)
class ScheduleState:
    """What the store knows of a schedule: when it was first seen, its last failed tick."""

    name: str
    first_seen_ms: int
    last_error: str | None
    last_error_at_ms: int | None


@dataclass(frozen=True)
class StatusChange:
    """An execution reached a status: what the store announces to listening processes."""

    execution_id: str
    workflow_name: str
    status: ExecutionStatus

    def encode(self) -> str:
        """`<status> <id> <workflow name>`: the notification payload."""
        return f"{self.status} {self.execution_id} {self.workflow_name}"

    @classmethod
    def decode(cls, text: str) -> StatusChange | None:
        """The change in a notification payload, or None for anything else."""
        parts = text.split(" ", 2)
        if len(parts) != 3 or parts[0] not in ExecutionStatus.__members__:
            return None
        return cls(parts[1], parts[2], ExecutionStatus(parts[0]))


class ChangeListener(Protocol):
    """A subscription to the store's status changes, from every process using it."""

    def wait(self, timeout_seconds: float) -> list[StatusChange] | None:
        """The changes announced since the last call, waiting up to the timeout for one.

        An empty list means the timeout passed; None means changes may have been
        missed (the channel was lost and reopened): re-read what you wait for.
        """
        ...

    def close(self) -> None:
        """Stop listening."""
        ...


class Store(Protocol):
    """Operation-level persistence for executions, job executions and workers.

    Every method opens and commits its own transaction. Methods taking a
    Lease refuse (raise LeaseLost) when the execution was claimed since.
    """

    url: str

    def close(self) -> None:
        """Release connections."""
        ...

    def subscribe(self) -> ChangeListener:
        """Listen to status changes (PostgreSQL: LISTEN/NOTIFY; SQLite: datagrams)."""
        ...

    def maintain(self) -> None:
        """Periodic upkeep, run by the heartbeat (SQLite: checkpoint the WAL)."""
        ...

    # registry
    def sync_workflows(self, entries: Sequence[WorkflowEntry], now_ms: int) -> None:
        """Insert or update the registry rows of the loaded workflows."""
        ...

    def list_workflow_records(self) -> list[WorkflowRecord]:
        """All registry rows, by name."""
        ...

    def job_versions_used(self, workflow_name: str) -> dict[str, set[str]]:
        """Job name → versions recorded on job executions of this workflow."""
        ...

    # executions
    def create_execution(self, new: NewExecution) -> str:
        """Insert a PENDING execution; with a known idempotency key return the existing id."""
        ...

    def create_execution_txn(self, connection: Any, new: NewExecution) -> StatusChange:
        """Insert a PENDING execution on the caller's DBAPI connection, in its open transaction.

        Record triggers use it so that the execution commits with the write that fired
        it, or not at all. The caller commits, then passes the returned change to
        `announce_committed` (PostgreSQL announces it at commit by itself).
        """
        ...

    def trigger_depth_txn(self, connection: Any, execution_id: str) -> int:
        """How many record triggers led to this execution, read in the caller's transaction."""
        ...

    def announce_committed(self, changes: Sequence[StatusChange]) -> None:
        """Tell waiting processes about status changes the caller has just committed."""
        ...

    def find_execution(self, execution_id: str, *, with_jobs: bool = False) -> Execution | None:
        """One execution (with its job executions if asked), or None."""
        ...

    def list_executions(
        self,
        *,
        workflow_name: str | None = None,
        statuses: Sequence[ExecutionStatus] = (),
        limit: int | None = None,
        before: str | None = None,
    ) -> list[Execution]:
        """Executions, newest first; `before` (an execution id) pages to those older than it.

        An unknown `before` id lists nothing.
        """
        ...

    def claim_execution(
        self,
        execution_id: str,
        owner: str,
        lease_ms: int,
        now_ms: int,
        limits: ClaimLimits = NO_LIMITS,
    ) -> Lease | None:
        """Claim this execution if it is runnable now (pending, due or lease expired)."""
        ...

    def claim_runnable(
        self,
        owner: str,
        lease_ms: int,
        now_ms: int,
        limit: int,
        workflow_names: Sequence[str],
        limits: ClaimLimits = NO_LIMITS,
    ) -> list[Lease]:
        """Claim up to `limit` runnable executions of these workflows, oldest first,
        leaving PENDING those that would run over a cap."""
        ...

    def next_wake_ms(self, workflow_names: Sequence[str]) -> int | None:
        """When the earliest sleeping or retrying execution of these workflows falls due."""
        ...

    def pending_work(self) -> list[PendingWork]:
        """Per workflow, the executions waiting for a worker (one grouped query)."""
        ...

    def record_trace_context(self, lease: Lease, trace_context: str) -> None:
        """Replace the trace context stored with a running execution (ignored once lost)."""
        ...

    def renew_leases(
        self, owner: str, execution_ids: Sequence[str], lease_ms: int, now_ms: int
    ) -> set[tuple[str, int]]:
        """Extend the leases this owner still holds; the (id, fence) of each one renewed."""
        ...

    def release_execution(self, lease: Lease, now_ms: int) -> None:
        """Give an unfinished execution back (it becomes PENDING_RESUME)."""
        ...

    def mark_resumable(self, execution_id: str, now_ms: int) -> None:
        """FAILED → PENDING_RESUME; raises ExecutionNotFound or NotResumable."""
        ...

    def finish_execution(
        self,
        lease: Lease,
        main_job: JobRow,
        *,
        main_job_recorded: bool,
        status: ExecutionStatus,
        now_ms: int,
        wake_at_ms: int | None = None,
    ) -> None:
        """Record the main job's outcome and the execution's new status together.

        The status is SUCCESS, FAILED, CANCELED, or PENDING_RETRY (due at `wake_at_ms`);
        the execution's result or error is the main job's.
        """
        ...

    # job executions
    def load_job_rows(self, execution_id: str) -> list[JobRow]:
        """Every job execution of an execution, oldest first, with payloads."""
        ...

    def abandon_unfinished_jobs(self, lease: Lease, error_json: str, now_ms: int) -> int:
        """Mark RUNNING job executions FAILED (their process died)."""
        ...

    def record_job_start(self, lease: Lease, row: JobRow) -> None:
        """Insert a job execution that is still running."""
        ...

    def record_job_result(self, lease: Lease, row: JobRow, *, started_recorded: bool) -> None:
        """Write a finished job execution (update it if its start was recorded)."""
        ...

    def check_lease_txn(self, connection: Any, lease: Lease) -> None:
        """Raise LeaseLost unless `lease` still owns its running execution, on the caller's
        DBAPI connection inside its open transaction (the claim then waits for it)."""
        ...

    def record_job_result_txn(
        self, connection: Any, lease: Lease, row: JobRow, *, started_recorded: bool
    ) -> None:
        """record_job_result on the caller's DBAPI connection, inside its open transaction.

        Transactional jobs use it to commit their database writes and their
        checkpoint together; the caller commits or rolls back.
        """
        ...

    # waits, cancel, schedules
    def load_waits(self, execution_id: str) -> list[WaitRow]:
        """Every wait point and sleep reached in an execution."""
        ...

    def record_wait(self, lease: Lease, wait: WaitRow) -> None:
        """Insert a wait point or sleep reached by a running job."""
        ...

    def park_execution(self, lease: Lease, wake_at_ms: int | None, now_ms: int) -> None:
        """RUNNING → WAITING (due again at `wake_at_ms`, or when resolved); lease released."""
        ...

    def resolve_wait(self, execution_id: str, key: str, result_json: str, now_ms: int) -> None:
        """Store the result of a pending wait point; the execution becomes PENDING_RESUME.

        Raises ExecutionNotFound or WaitPointError (not waiting there, already resolved).
        """
        ...

    def request_cancel(self, execution_id: str, now_ms: int) -> ExecutionStatus:
        """Cancel at once (returns CANCELED) or flag a RUNNING execution (returns RUNNING).

        Raises ExecutionNotFound or NotCancelable.
        """
        ...

    def cancel_requested(self, execution_ids: Sequence[str]) -> set[str]:
        """Which of these executions have a pending cancel request."""
        ...

    def schedule_first_seen(self, name: str, now_ms: int) -> int:
        """When a schedule was first seen by this store (recorded now if new)."""
        ...

    def record_schedule_error(self, name: str, message: str, now_ms: int) -> None:
        """Keep the error of a schedule's tick that could not start."""
        ...

    def schedule_states(self) -> dict[str, ScheduleState]:
        """Every schedule the store has seen, by name."""
        ...

    # workers
    def register_worker(self, worker_id: str, info: str, now_ms: int) -> None:
        """Announce a live worker (also its heartbeat)."""
        ...

    def remove_worker(self, worker_id: str) -> None:
        """Forget a worker that stopped."""
        ...

    def live_worker_count(self, now_ms: int, stale_ms: int) -> int:
        """Workers whose heartbeat is more recent than `stale_ms`."""
        ...

    # repair (store/repairs.py)
    def restart_execution(
        self,
        new: NewExecution,
        source_id: str,
        copies: Sequence[JobRow],
        markers: Sequence[WaitRow],
    ) -> None:
        """Create `new` as a restart of `source_id` with copies of some of its history.

        One transaction: the source must still be final (else NotRestartable), or exist
        (else ExecutionNotFound); the new PENDING execution records `restarted_from`.
        """
        ...

    def load_histories(
        self, execution_ids: Sequence[str]
    ) -> dict[str, tuple[list[JobRow], list[WaitRow]]]:
        """The job executions (oldest first) and waits of many executions at once."""
        ...

    def count_executions(self, selection: ExecutionFilter) -> int:
        """How many executions match."""
        ...

    def resume_batch(
        self, selection: ExecutionFilter, after: Cursor | None, limit: int, now_ms: int
    ) -> Batch:
        """Resume (as `mark_resumable`) up to `limit` matching FAILED or PENDING_RETRY
        executions after `after`, oldest first, in one transaction."""
        ...

    def cancel_batch(
        self, selection: ExecutionFilter, after: Cursor | None, limit: int, now_ms: int
    ) -> Batch:
        """Cancel (as `request_cancel`) up to `limit` matching executions after `after`,
        oldest first, in one transaction."""
        ...

    def prune_batch(
        self, selection: ExecutionFilter, after: Cursor | None, limit: int
    ) -> PruneBatch:
        """Delete up to `limit` matching final executions after `after` with their job
        executions and waits, in one transaction (all of an execution or none of it)."""
        ...

    def free_pages(self) -> tuple[int, int] | None:
        """SQLite: (pages on the file's free list, page size in bytes); else None.

        Free pages are reused by later writes; VACUUM gives them back to the file system.
        """
        ...

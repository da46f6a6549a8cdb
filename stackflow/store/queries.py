"""Every statement the stores share, written once with `:name` parameters.

`Queries.for_dialect` turns them into the driver's parameter style and fills the
two places where the dialects' semantics differ: `{share_lock}` (PostgreSQL locks
the execution row FOR SHARE so that a claim waits for a fenced write; SQLite's
BEGIN IMMEDIATE already serialises writers) and `{lease_now}` (PostgreSQL times
leases by the server's clock, SQLite by the one host's clock every process shares).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields

from stackflow.records import ExecutionStatus, JobStatus


def quoted(*statuses: ExecutionStatus | JobStatus) -> str:
    """`'A', 'B'`: statuses as SQL literals, for IN lists written into a statement."""
    return ", ".join(f"'{status.value}'" for status in statuses)


PENDING_INDEX = (
    "executions_pending",
    f"status IN ({quoted(ExecutionStatus.PENDING, ExecutionStatus.PENDING_RESUME)})",
)
"""The partial index of the executions waiting for a first or a new run, and its condition."""

RUNNABLE_KINDS = (
    (*PENDING_INDEX, "id", "updated_at"),
    (
        "executions_leased",
        f"status = '{ExecutionStatus.RUNNING}' AND lease_expires_at < {{lease_now}}",
        "lease_expires_at",
        "lease_expires_at",
    ),
    (
        "executions_due",
        f"status IN ({quoted(ExecutionStatus.PENDING_RETRY, ExecutionStatus.WAITING)})"
        " AND wake_at IS NOT NULL AND wake_at <= {lease_now}",
        "wake_at",
        "wake_at",
    ),
)
"""The executions a worker may claim now, by kind: (the partial index holding them, its
condition, its column, the column saying since when they have been runnable): pending
(started, resumed, resolved or released), abandoned by an owner whose lease expired, or due
again. A claim reads each kind from its index in the index's order (the first ones of each
kind; by id, the expired and due kinds would walk the primary key), so its cost does not
grow with the store's history. PostgreSQL's stackflow_claim function does the same."""


STATUS_INDEXES = {
    ExecutionStatus.PENDING: PENDING_INDEX,
    ExecutionStatus.PENDING_RESUME: PENDING_INDEX,
    ExecutionStatus.RUNNING: ("executions_leased", f"status = '{ExecutionStatus.RUNNING}'"),
    ExecutionStatus.PENDING_RETRY: (
        "executions_retrying",
        f"status = '{ExecutionStatus.PENDING_RETRY}'",
    ),
    ExecutionStatus.WAITING: ("executions_waiting", f"status = '{ExecutionStatus.WAITING}'"),
    ExecutionStatus.FAILED: ("executions_failed", f"status = '{ExecutionStatus.FAILED}'"),
    ExecutionStatus.CANCELED: ("executions_canceled", f"status = '{ExecutionStatus.CANCELED}'"),
}
"""For every status but SUCCESS (most of a store's rows, found at once walking the ids
newest first): the partial index holding its executions, and that index's condition. A
list by status names the condition word for word, so that both planners may use the index
(SQLite's rule for partial indexes asks for the same term), and never walks the history
for a status few executions have."""


RESUMABLE = quoted(
    ExecutionStatus.FAILED, ExecutionStatus.PENDING_RESUME, ExecutionStatus.PENDING_RETRY
)
"""Statuses a resume makes PENDING_RESUME again."""

FENCED = (
    "EXISTS (SELECT 1 FROM executions WHERE id = :execution_id AND fence = :fence "
    f"AND status = '{ExecutionStatus.RUNNING}'{{share_lock}})"
)
"""True while the lease (execution_id, fence) still owns its running execution."""

OWNED = f"id = :execution_id AND fence = :fence AND status = '{ExecutionStatus.RUNNING}'"
"""The execution row of a lease, while the lease still owns it and it runs."""

PENDING_WAIT_POINT = (
    "FROM waits w WHERE w.execution_id = e.id AND w.kind = 'wait_point' "
    "AND w.resolved_at IS NULL ORDER BY w.created_at DESC LIMIT 1"
)
EXECUTION_COLUMNS = (
    "e.id, e.workflow_name, e.status, e.invoker, e.created_at, e.started_at, e.finished_at, "
    "e.arg, e.result, e.error, e.wake_at, e.cancel_requested, "
    "(SELECT count(*) FROM job_executions j WHERE j.execution_id = e.id), e.restarted_from, "
    f"CASE WHEN e.status = '{ExecutionStatus.WAITING}' THEN "
    f"(SELECT w.wait_key {PENDING_WAIT_POINT}) END, "
    f"CASE WHEN e.status = '{ExecutionStatus.WAITING}' THEN "
    f"(SELECT w.payload {PENDING_WAIT_POINT}) END"
)
"""An execution's columns; a WAITING one's pending wait point (key, payload) last."""
JOB_COLUMNS = (
    "execution_id, call_path, job_name, stacked_job_name, status, attempt, version, "
    "started_at, finished_at, input, result, error, logs, failure_cause, seq"
)
WAIT_COLUMNS = (
    "execution_id, call_path, kind, wait_key, payload, result, wake_at, created_at, resolved_at"
)
BULK_RESUMABLE = quoted(ExecutionStatus.FAILED, ExecutionStatus.PENDING_RETRY)
"""Statuses a bulk resume changes (PENDING_RESUME already is what a resume makes)."""
CANCELABLE_AT_ONCE = quoted(
    ExecutionStatus.PENDING,
    ExecutionStatus.PENDING_RESUME,
    ExecutionStatus.PENDING_RETRY,
    ExecutionStatus.WAITING,
)
LEASE_COLUMNS = (
    "id, workflow_name, fence, arg, invoker, retries, run_count, cancel_requested, created_at, "
    "trace_context"
)


INSERT_JOB = (
    "INSERT INTO job_executions (execution_id, call_path, job_name, stacked_job_name, "
    "status, attempt, version, started_at, finished_at, input, result, error, logs, "
    "failure_cause, seq) SELECT :execution_id, :call_path, :job_name, :stacked_job_name, "
    ":status, :attempt, :version, :started_at, :finished_at, :input, :result, :error, :logs, "
    ":failure_cause, :seq"
)
UPDATE_JOB = (
    "UPDATE job_executions SET status = :status, finished_at = :finished_at, "
    "result = :result, error = :error, logs = :logs, failure_cause = :failure_cause "
    "WHERE execution_id = :execution_id AND seq = :seq"
)


@dataclass(frozen=True)
class Queries:
    """The shared statements, in one dialect's parameter style."""

    # registry
    sync_workflow: str = (
        "INSERT INTO workflows (name, id, main_job, job_versions, created_at, updated_at) "
        "VALUES (:name, :id, :main_job, :job_versions, :now, :now) "
        "ON CONFLICT (name) DO UPDATE SET main_job = excluded.main_job, "
        "job_versions = excluded.job_versions, updated_at = excluded.updated_at "
        "WHERE workflows.main_job <> excluded.main_job "
        "OR workflows.job_versions <> excluded.job_versions"
    )
    list_workflows: str = (
        "SELECT name, id, main_job, job_versions, created_at, updated_at FROM workflows "
        "ORDER BY name"
    )
    versions_used: str = (
        "SELECT DISTINCT j.job_name, j.version FROM job_executions j "
        "JOIN executions e ON e.id = j.execution_id WHERE e.workflow_name = :workflow_name"
    )

    # executions
    insert_execution: str = (
        "INSERT INTO executions (id, workflow_name, status, invoker, idempotency_key, "
        "created_at, updated_at, arg, trigger_depth, trace_context) VALUES (:id, "
        f":workflow_name, '{ExecutionStatus.PENDING}', :invoker, :key, :now, :now, :arg, "
        ":trigger_depth, :trace_context) "
        "ON CONFLICT DO NOTHING"
    )
    find_existing_execution: str = (
        "SELECT id FROM executions WHERE id = :id OR idempotency_key = :key"
    )
    select_executions: str = f"SELECT {EXECUTION_COLUMNS} FROM executions e"
    trigger_depth: str = "SELECT trigger_depth FROM executions WHERE id = :id"
    execution_exists: str = "SELECT status FROM executions WHERE id = :id"
    renew_leases: str = (
        "UPDATE executions SET lease_expires_at = {lease_now} + :lease_ms "
        f"WHERE lease_owner = :owner AND status = '{ExecutionStatus.RUNNING}' AND id IN ({{ids}}) "
        "RETURNING id, fence"
    )
    release_execution: str = (
        f"UPDATE executions SET status = '{ExecutionStatus.PENDING_RESUME}', lease_owner = NULL, "
        f"lease_expires_at = NULL, updated_at = :now WHERE {OWNED}"
    )
    mark_resumable: str = (
        f"UPDATE executions SET status = '{ExecutionStatus.PENDING_RESUME}', finished_at = NULL, "
        f"wake_at = NULL, retries = 0, updated_at = :now WHERE id = :id AND status IN ({RESUMABLE})"
    )
    finish_execution: str = (
        "UPDATE executions SET status = :status, finished_at = :finished_at, updated_at = :now, "
        "wake_at = :wake_at, retries = retries + :retried, lease_owner = NULL, "
        f"lease_expires_at = NULL, result = :result, error = :error WHERE {OWNED}"
    )
    park_execution: str = (
        f"UPDATE executions SET status = '{ExecutionStatus.WAITING}', wake_at = :wake_at, "
        f"updated_at = :now, lease_owner = NULL, lease_expires_at = NULL WHERE {OWNED}"
    )
    pending_work: str = (
        "SELECT workflow_name, count(*), min(updated_at) FROM executions WHERE status IN "
        f"({quoted(ExecutionStatus.PENDING, ExecutionStatus.PENDING_RESUME)}) "
        "GROUP BY workflow_name ORDER BY workflow_name"
    )
    """Executions waiting for a worker, per workflow; `updated_at` is when each became
    runnable (its start, resume, resolve or release)."""
    record_trace_context: str = (
        f"UPDATE executions SET trace_context = :trace_context WHERE {OWNED}"
    )
    next_wake: str = (
        "SELECT min(wake_at) FROM executions WHERE status IN "
        f"({quoted(ExecutionStatus.PENDING_RETRY, ExecutionStatus.WAITING)}) "
        "AND wake_at IS NOT NULL AND workflow_name IN ({names})"
    )

    # job executions
    select_jobs: str = (
        f"SELECT {JOB_COLUMNS} FROM job_executions WHERE execution_id = :execution_id ORDER BY seq"
    )
    insert_job: str = f"{INSERT_JOB} WHERE {FENCED} ON CONFLICT DO NOTHING"
    """(Not `NOT EXISTS` on job_executions: SQLite would copy the row through a temporary
    table on every insert, as for any INSERT reading the table it inserts into.)"""
    insert_last_job: str = f"{INSERT_JOB} WHERE true ON CONFLICT DO NOTHING"
    """The main job's last write, in the transaction whose first statement finished the
    execution under its lease (so it needs no fence of its own)."""
    update_job: str = f"{UPDATE_JOB} AND {FENCED}"
    update_last_job: str = UPDATE_JOB
    write_outcome: str = (
        f"SELECT (SELECT 1 FROM executions WHERE {OWNED}), "
        "(SELECT 1 FROM job_executions WHERE execution_id = :execution_id AND seq = :seq)"
    )
    """After a job write that changed nothing: was the lease lost, or is the row already
    there (this very write, whose commit was not acknowledged before a disconnect)?"""
    abandon_jobs: str = (
        f"UPDATE job_executions SET status = '{JobStatus.FAILED}', finished_at = :now, "
        f"error = :error WHERE execution_id = :execution_id AND status = '{JobStatus.RUNNING}' "
        f"AND {FENCED}"
    )
    check_fence: str = f"SELECT 1 WHERE {FENCED}"

    # waits
    select_waits: str = f"SELECT {WAIT_COLUMNS} FROM waits WHERE execution_id = :execution_id"
    insert_wait: str = (
        f"INSERT INTO waits ({WAIT_COLUMNS}) SELECT :execution_id, :call_path, :kind, :key, "
        ":payload, :result, :wake_at, :created_at, :resolved_at "
        f"WHERE {FENCED} ON CONFLICT (execution_id, call_path) DO NOTHING"
    )
    waits_at_key: str = (
        "SELECT resolved_at FROM waits WHERE execution_id = :id AND kind = 'wait_point' "
        "AND wait_key = :key"
    )
    pending_wait_points: str = (
        "SELECT wait_key, payload FROM waits WHERE execution_id = :id AND kind = 'wait_point' "
        "AND resolved_at IS NULL ORDER BY created_at"
    )
    resolve_wait: str = (
        "UPDATE waits SET result = :result, resolved_at = :now WHERE execution_id = :id "
        "AND kind = 'wait_point' AND wait_key = :key AND resolved_at IS NULL"
    )
    resume_resolved: str = (
        f"UPDATE executions SET status = '{ExecutionStatus.PENDING_RESUME}', wake_at = NULL, "
        f"updated_at = :now WHERE id = :id AND status = '{ExecutionStatus.WAITING}'"
    )

    # cancel
    lock_execution: str = (
        "SELECT status, lease_expires_at, {lease_now} FROM executions WHERE id = :id{row_lock}"
    )
    cancel_at_once: str = (
        f"UPDATE executions SET status = '{ExecutionStatus.CANCELED}', finished_at = :now, "
        "updated_at = :now, wake_at = NULL, lease_owner = NULL, lease_expires_at = NULL "
        "WHERE id = :id"
    )
    cancel_later: str = (
        "UPDATE executions SET cancel_requested = 1, updated_at = :now WHERE id = :id"
    )
    cancel_requested: str = "SELECT id FROM executions WHERE cancel_requested = 1 AND id IN ({ids})"

    # schedules and workers
    schedule_seen: str = (
        "INSERT INTO schedules (name, created_at) VALUES (:name, :now) "
        "ON CONFLICT (name) DO NOTHING"
    )
    schedule_first_seen: str = "SELECT created_at FROM schedules WHERE name = :name"
    schedule_error: str = (
        "UPDATE schedules SET last_error = :error, last_error_at = :now WHERE name = :name"
    )
    schedule_states: str = "SELECT name, created_at, last_error, last_error_at FROM schedules"
    register_worker: str = (
        "INSERT INTO workers (id, info, started_at, heartbeat_at) "
        "VALUES (:id, :info, :now, :now) "
        "ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at"
    )
    remove_worker: str = "DELETE FROM workers WHERE id = :id"
    live_workers: str = "SELECT count(*) FROM workers WHERE heartbeat_at > :since"

    # claims (SQLite's; PostgreSQL claims in its stackflow_claim function)
    running_counts: str = (
        f"SELECT workflow_name, count(*) FROM executions WHERE status = '{ExecutionStatus.RUNNING}'"
        " AND lease_expires_at >= {lease_now} GROUP BY workflow_name"
    )
    claim_one: str = (
        f"UPDATE executions SET status = '{ExecutionStatus.RUNNING}', lease_owner = :owner, "
        "lease_expires_at = {lease_now} + :lease_ms, fence = fence + 1, "
        "started_at = COALESCE(started_at, :now), run_count = run_count + 1, wake_at = NULL, "
        f"updated_at = :now WHERE id = :id RETURNING {LEASE_COLUMNS}"
    )

    # repair: restart, bulk resume and cancel, prune (store/repairs.py); `{where}` is a
    # conjunction of the filter fragments below, `{ids}` an IN list
    insert_restarted_execution: str = (
        "INSERT INTO executions (id, workflow_name, status, invoker, created_at, updated_at, "
        "arg, restarted_from, run_count) VALUES (:id, :workflow_name, "
        f"'{ExecutionStatus.PENDING}', :invoker, :now, :now, :arg, :restarted_from, 1)"
    )
    """run_count 1: its first claim reads the history it was created with."""
    copy_job: str = INSERT_JOB
    copy_wait: str = (
        f"INSERT INTO waits ({WAIT_COLUMNS}) VALUES (:execution_id, :call_path, :kind, :key, "
        ":payload, :result, :wake_at, :created_at, :resolved_at)"
    )
    jobs_of_executions: str = (
        f"SELECT {JOB_COLUMNS} FROM job_executions WHERE execution_id IN ({{ids}}) "
        "ORDER BY execution_id, seq"
    )
    waits_of_executions: str = f"SELECT {WAIT_COLUMNS} FROM waits WHERE execution_id IN ({{ids}})"
    count_matching: str = "SELECT count(*) FROM executions WHERE {where}"
    batch_candidates: str = "SELECT id FROM executions WHERE {where} ORDER BY id LIMIT :limit"
    """Read outside the batch's transaction (a long scan never holds the write lock)."""
    still_matching: str = (
        "SELECT id FROM executions WHERE id IN ({ids}) AND {where} ORDER BY id{row_lock}"
    )
    """Inside the batch's transaction: which candidates still match (locked on PostgreSQL)."""
    resume_ids: str = (
        f"UPDATE executions SET status = '{ExecutionStatus.PENDING_RESUME}', finished_at = NULL, "
        "wake_at = NULL, retries = 0, updated_at = :now "
        f"WHERE id IN ({{ids}}) AND status IN ({BULK_RESUMABLE}) RETURNING id, workflow_name"
    )
    cancel_ids_at_once: str = (
        f"UPDATE executions SET status = '{ExecutionStatus.CANCELED}', finished_at = :now, "
        "updated_at = :now, wake_at = NULL, lease_owner = NULL, lease_expires_at = NULL "
        f"WHERE id IN ({{ids}}) AND (status IN ({CANCELABLE_AT_ONCE}) OR "
        f"(status = '{ExecutionStatus.RUNNING}' AND lease_expires_at < {{lease_now}})) "
        "RETURNING id, workflow_name"
    )
    cancel_ids_later: str = (
        "UPDATE executions SET cancel_requested = 1, updated_at = :now WHERE id IN ({ids}) "
        f"AND status = '{ExecutionStatus.RUNNING}' AND cancel_requested = 0 RETURNING id"
    )
    delete_waits: str = "DELETE FROM waits WHERE execution_id IN ({ids})"
    delete_jobs: str = "DELETE FROM job_executions WHERE execution_id IN ({ids})"
    delete_executions: str = "DELETE FROM executions WHERE id IN ({ids})"
    of_workflow: str = "workflow_name = :workflow_name"
    created_from: str = "created_at >= :created_from"
    created_before: str = "created_at < :created_before"
    finished_before: str = "finished_at < :finished_before"
    after_cursor: str = "id > :after_id"

    @classmethod
    def for_dialect(cls, *, named: str, share_lock: str, row_lock: str, lease_now: str) -> Queries:
        """The statements with `:name` parameters written as `named` (e.g. `%({})s`)."""
        values = {}
        for spec in fields(cls):
            text = spec.default
            assert isinstance(text, str)
            text = text.replace("{share_lock}", share_lock).replace("{row_lock}", row_lock)
            text = text.replace("{lease_now}", lease_now)
            values[spec.name] = _PARAMETER.sub(lambda m: named.format(m.group(1)), text)
        return cls(**values)


_PARAMETER = re.compile(r"(?<![:\w]):([a-z_][a-z0-9_]*)")
"""A `:name` parameter (not a `::type` cast)."""

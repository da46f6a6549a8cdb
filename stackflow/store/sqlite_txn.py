"""SQLite statements that run inside the caller's transaction (the `_txn` helpers)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from stackflow.errors import LeaseLost
from stackflow.store.base import ClaimLimits, JobRow, Lease
from stackflow.store.decisions import within_limits

CLAIM_LOOKAHEAD = 50
FENCED = "AND EXISTS (SELECT 1 FROM executions WHERE id = ? AND fence = ?)"


def refuse_if_lost(changed: int, lease: Lease | None) -> None:
    """Raise LeaseLost when a fenced statement changed no row."""
    if lease is not None and not changed:
        raise LeaseLost(f"execution {lease.execution_id} was claimed by another process")


RUNNABLE_CONDITION = (
    "(status IN ('PENDING', 'PENDING_RESUME')"
    " OR (status = 'RUNNING' AND lease_expires_at < :now)"
    " OR (status IN ('PENDING_RETRY', 'WAITING') AND wake_at IS NOT NULL AND wake_at <= :now))"
)


def check_fence(conn: sqlite3.Connection, lease: Lease) -> None:
    """Raise LeaseLost unless `lease` still owns its execution."""
    found = conn.execute(
        "SELECT 1 FROM executions WHERE id = ? AND fence = ?", (lease.execution_id, lease.fence)
    ).fetchone()
    if found is None:
        raise LeaseLost(f"execution {lease.execution_id} was claimed by another process")


def claimable_txn(
    conn: sqlite3.Connection,
    now_ms: int,
    limit: int,
    limits: ClaimLimits,
    *,
    execution_id: str | None = None,
    workflow_names: Sequence[str] = (),
) -> list[str]:
    """Ids of runnable executions to claim now, oldest first, within the caps."""
    params: dict[str, Any] = {"now": now_ms, "limit": limit + CLAIM_LOOKAHEAD}
    where = [RUNNABLE_CONDITION]
    if execution_id is not None:
        where.append("id = :id")
        params["id"] = execution_id
    if workflow_names:
        names = {f"w{i}": name for i, name in enumerate(workflow_names)}
        where.append(f"workflow_name IN ({', '.join(':' + key for key in names)})")
        params.update(names)
    candidates = conn.execute(
        f"SELECT id, workflow_name FROM executions WHERE {' AND '.join(where)} "
        "ORDER BY created_at, rowid LIMIT :limit",
        params,
    ).fetchall()
    if limits.max_running is None and not limits.per_workflow:
        return [row[0] for row in candidates[:limit]]
    running = dict(
        conn.execute(
            "SELECT workflow_name, count(*) FROM executions WHERE status = 'RUNNING' "
            "AND lease_expires_at >= ? GROUP BY workflow_name",
            (now_ms,),
        ).fetchall()
    )
    return within_limits(candidates, running, limits, limit)


def claim_txn(
    conn: sqlite3.Connection, execution_id: str, owner: str, lease_ms: int, now_ms: int
) -> Lease:
    """Take the lease of one execution (bumping its fence) and return it."""
    workflow_name, fence, invoker, retries, run_count, cancel = conn.execute(
        "UPDATE executions SET status = 'RUNNING', lease_owner = ?, lease_expires_at = ?, "
        "fence = fence + 1, started_at = COALESCE(started_at, ?), run_count = run_count + 1, "
        "wake_at = NULL, updated_at = ? WHERE id = ? "
        "RETURNING workflow_name, fence, invoker, retries, run_count, cancel_requested",
        (owner, now_ms + lease_ms, now_ms, now_ms, execution_id),
    ).fetchone()
    (arg,) = conn.execute(
        "SELECT arg FROM execution_payloads WHERE execution_id = ?", (execution_id,)
    ).fetchone()
    return Lease(
        execution_id,
        workflow_name,
        owner,
        fence,
        arg,
        invoker,
        retries,
        first_run=run_count == 1,
        cancel_requested=bool(cancel),
    )


def write_job_txn(
    conn: sqlite3.Connection, row: JobRow, update: bool, lease: Lease | None = None
) -> None:
    """Insert or update a job row and its payload; fenced by `lease` when given."""
    fenced = FENCED if lease else ""
    fence = (lease.execution_id, lease.fence) if lease else ()
    if update:
        changed = conn.execute(
            "UPDATE job_executions SET status = ?, finished_at = ? "
            f"WHERE execution_id = ? AND seq = ? {fenced}",
            (row.status, row.finished_at_ms, row.execution_id, row.seq, *fence),
        ).rowcount
        refuse_if_lost(changed, lease)
        conn.execute(
            "UPDATE job_payloads SET result = ?, error = ?, logs = ?, failure_cause = ? "
            "WHERE id = ?",
            (row.result_json, row.error_json, row.logs, row.failure_cause, row.payload_id),
        )
        return
    payload_id = conn.execute(
        "INSERT INTO job_payloads (input, result, error, logs, failure_cause) "
        "VALUES (?, ?, ?, ?, ?)",
        (row.input_json, row.result_json, row.error_json, row.logs, row.failure_cause),
    ).lastrowid
    changed = conn.execute(
        "INSERT INTO job_executions SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? "
        f"WHERE 1 = 1 {fenced}",
        (
            row.execution_id,
            row.seq,
            row.id,
            row.call_path,
            row.job_name,
            row.stacked_job_name,
            row.status,
            row.attempt,
            row.version,
            row.started_at_ms,
            row.finished_at_ms,
            payload_id,
            *fence,
        ),
    ).rowcount
    refuse_if_lost(changed, lease)
    row.payload_id = payload_id

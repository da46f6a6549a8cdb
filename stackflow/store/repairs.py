"""The repair operations of the SQL stores: restart, bulk resume and cancel, prune.

Each bulk operation works in batches: a read finds the next matching
executions after a cursor (oldest first), then one short transaction checks
which still match (locking them on PostgreSQL) and changes or deletes them, so
a large set never holds a long lock and a batch is all done or not at all.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from stackflow.errors import ExecutionNotFound, NotRestartable
from stackflow.records import ExecutionStatus
from stackflow.store import rows
from stackflow.store.base import (
    Batch,
    Cursor,
    ExecutionFilter,
    JobRow,
    NewExecution,
    PruneBatch,
    StatusChange,
    WaitRow,
)
from stackflow.store.queries import Queries

T = TypeVar("T")
HISTORIES_PER_READ = 500
"""Executions whose histories one statement reads."""


def job_row_params(row: JobRow) -> dict[str, Any]:
    """The parameters of the job statements for `row` (without a fence)."""
    return {
        "execution_id": row.execution_id,
        "seq": row.seq,
        "call_path": row.call_path,
        "job_name": row.job_name,
        "stacked_job_name": row.stacked_job_name,
        "status": str(row.status),
        "attempt": row.attempt,
        "version": row.version,
        "started_at": row.started_at_ms,
        "finished_at": row.finished_at_ms,
        "input": row.input_json,
        "result": row.result_json,
        "error": row.error_json,
        "logs": row.logs,
        "failure_cause": row.failure_cause,
    }


def wait_params(wait: WaitRow) -> dict[str, Any]:
    """The parameters of the wait statements for `wait` (without a fence)."""
    return {
        "execution_id": wait.execution_id,
        "call_path": wait.call_path,
        "kind": wait.kind,
        "key": wait.key,
        "payload": wait.payload_json,
        "result": wait.result_json,
        "wake_at": wait.wake_at_ms,
        "created_at": wait.created_at_ms,
        "resolved_at": wait.resolved_at_ms,
    }


class RepairOperations:
    """Restart, bulk resume and cancel, prune: mixed into SqlStore, which supplies the
    statements, the transactions and the announcements."""

    queries: Queries
    placeholder: str

    def _write(self, work: Callable[[Any], T]) -> T:
        raise NotImplementedError

    def _read(self, query: str, params: Mapping[str, Any] | None = None) -> list[Any]:
        raise NotImplementedError

    def _announce(self, *changes: StatusChange) -> None:
        raise NotImplementedError

    def _in_list(self, prefix: str, values: Sequence[Any]) -> tuple[str, dict[str, Any]]:
        raise NotImplementedError

    def free_pages(self) -> tuple[int, int] | None:
        return None

    # restart
    def restart_execution(
        self,
        new: NewExecution,
        source_id: str,
        copies: Sequence[JobRow],
        markers: Sequence[WaitRow],
    ) -> None:
        params = {
            "id": new.id,
            "workflow_name": new.workflow_name,
            "invoker": new.invoker_json,
            "now": new.created_at_ms,
            "arg": new.arg_json,
            "restarted_from": source_id,
        }

        def restart(conn: Any) -> None:
            self._refuse_unless_final_txn(conn, source_id, new.created_at_ms)
            conn.execute(self.queries.insert_restarted_execution, params)
            for row in copies:
                conn.execute(self.queries.copy_job, job_row_params(row))
            for wait in markers:
                conn.execute(self.queries.copy_wait, wait_params(wait))

        self._write(restart)
        self._announce(StatusChange(new.id, new.workflow_name, ExecutionStatus.PENDING))

    def _refuse_unless_final_txn(self, conn: Any, execution_id: str, now_ms: int) -> None:
        found = conn.execute(self.queries.lock_execution, {"id": execution_id, "now": now_ms})
        row = found.fetchone()
        if row is None:
            raise ExecutionNotFound(execution_id)
        if not ExecutionStatus(row[0]).is_final:
            raise NotRestartable(execution_id, row[0])

    # reading
    def load_histories(
        self, execution_ids: Sequence[str]
    ) -> dict[str, tuple[list[JobRow], list[WaitRow]]]:
        histories: dict[str, tuple[list[JobRow], list[WaitRow]]] = {
            execution_id: ([], []) for execution_id in execution_ids
        }
        for start in range(0, len(execution_ids), HISTORIES_PER_READ):
            ids = execution_ids[start : start + HISTORIES_PER_READ]
            query, params = self._in_ids(self.queries.jobs_of_executions, ids)
            for found in self._read(query, params):
                row = rows.job_row(found)
                histories[row.execution_id][0].append(row)
            query, params = self._in_ids(self.queries.waits_of_executions, ids)
            for found in self._read(query, params):
                wait = rows.wait_row(found)
                histories[wait.execution_id][1].append(wait)
        return histories

    # selecting
    def count_executions(self, selection: ExecutionFilter) -> int:
        where, params = self._where(selection, None)
        found = self._read(self.queries.count_matching.replace("{where}", where), params)
        return int(found[0][0])

    def _where(
        self, selection: ExecutionFilter, after: Cursor | None = None
    ) -> tuple[str, dict[str, Any]]:
        """The conjunction of the filter's conditions (and the cursor's), and its parameters."""
        q = self.queries
        conditions = {
            q.of_workflow: ("workflow_name", selection.workflow_name),
            q.created_from: ("created_from", selection.created_from_ms),
            q.created_before: ("created_before", selection.created_before_ms),
            q.finished_before: ("finished_before", selection.finished_before_ms),
            q.after_cursor: ("after_id", after),
        }
        parts: list[str] = []
        params: dict[str, Any] = {}
        for condition, (name, value) in conditions.items():
            if value is not None:
                parts.append(condition)
                params[name] = value
        if selection.statuses:
            marks, named = self._in_list("status", [str(s) for s in selection.statuses])
            parts.append(f"status IN ({marks})")
            params.update(named)
        return " AND ".join(parts) or "1 = 1", params

    def _next_batch(
        self, selection: ExecutionFilter, after: Cursor | None, limit: int
    ) -> list[str]:
        """Ids of the next `limit` matching executions after `after`, oldest first (a read:
        a scan past many executions that do not match holds no lock)."""
        where, params = self._where(selection, after)
        query = self.queries.batch_candidates.replace("{where}", where)
        return [str(row[0]) for row in self._read(query, {**params, "limit": limit})]

    def _still_matching_txn(
        self, conn: Any, selection: ExecutionFilter, ids: Sequence[str]
    ) -> list[str]:
        """Which of `ids` match still, inside the batch's transaction (locked on PostgreSQL)."""
        where, params = self._where(selection)
        query, id_params = self._in_ids(self.queries.still_matching, ids)
        found = conn.execute(query.replace("{where}", where), {**params, **id_params})
        return [str(row[0]) for row in found.fetchall()]

    def _in_ids(
        self, statement: str, ids: Sequence[str], **extra: Any
    ) -> tuple[str, dict[str, Any]]:
        marks, params = self._in_list("id", ids)
        return statement.replace("{ids}", marks), {**params, **extra}

    def _in_batches(
        self,
        selection: ExecutionFilter,
        after: Cursor | None,
        limit: int,
        change: Callable[[Any, list[str]], T],
    ) -> tuple[T | None, Cursor | None]:
        """`change(conn, ids)` in one transaction for the next batch that still matches."""
        ids = self._next_batch(selection, after, limit)
        if not ids:
            return None, None

        def in_transaction(conn: Any) -> T | None:
            matching = self._still_matching_txn(conn, selection, ids)
            return change(conn, matching) if matching else None

        return self._write(in_transaction), ids[-1]

    # bulk resume and cancel
    def resume_batch(
        self, selection: ExecutionFilter, after: Cursor | None, limit: int, now_ms: int
    ) -> Batch:
        def resume(conn: Any, ids: list[str]) -> list[Any]:
            query, params = self._in_ids(self.queries.resume_ids, ids, now=now_ms)
            return list(conn.execute(query, params).fetchall())

        changed, cursor = self._in_batches(selection, after, limit, resume)
        status = ExecutionStatus.PENDING_RESUME
        self._announce(*(StatusChange(str(row[0]), row[1], status) for row in changed or ()))
        return Batch(len(changed or ()), cursor)

    def cancel_batch(
        self, selection: ExecutionFilter, after: Cursor | None, limit: int, now_ms: int
    ) -> Batch:
        def cancel(conn: Any, ids: list[str]) -> tuple[list[Any], int]:
            query, params = self._in_ids(self.queries.cancel_ids_at_once, ids, now=now_ms)
            canceled = list(conn.execute(query, params).fetchall())
            query, params = self._in_ids(self.queries.cancel_ids_later, ids, now=now_ms)
            return canceled, len(conn.execute(query, params).fetchall())

        outcome, cursor = self._in_batches(selection, after, limit, cancel)
        canceled, flagged = outcome or ([], 0)
        status = ExecutionStatus.CANCELED
        self._announce(*(StatusChange(str(row[0]), row[1], status) for row in canceled))
        return Batch(len(canceled) + flagged, cursor)

    # prune
    def prune_batch(
        self, selection: ExecutionFilter, after: Cursor | None, limit: int
    ) -> PruneBatch:
        def prune(conn: Any, ids: list[str]) -> tuple[int, int, int]:
            waits, jobs, executions = (
                conn.execute(*self._in_ids(statement, ids)).rowcount
                for statement in (
                    self.queries.delete_waits,
                    self.queries.delete_jobs,
                    self.queries.delete_executions,
                )
            )
            return executions, jobs, waits

        deleted, cursor = self._in_batches(selection, after, limit, prune)
        return PruneBatch(*(deleted or (0, 0, 0)), cursor)

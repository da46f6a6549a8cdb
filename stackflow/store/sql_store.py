"""The Store written once over SQL: every operation both backends share.

A backend supplies its connections and transactions (`_write`, `_read`), its
claims, and how it announces status changes to other processes; the statements
come from `queries.py` in the backend's parameter style.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, TypeVar

from stackflow.errors import ExecutionNotFound, LeaseLost, NotResumable, StoreError
from stackflow.records import Execution, ExecutionStatus, WorkflowRecord
from stackflow.store import rows
from stackflow.store.base import (
    NO_LIMITS,
    ClaimLimits,
    JobRow,
    Lease,
    NewExecution,
    PendingWork,
    ScheduleState,
    StatusChange,
    WaitRow,
    WorkflowEntry,
)
from stackflow.store.decisions import cancel_outcome, check_resolvable
from stackflow.store.queries import STATUS_INDEXES, Queries, quoted
from stackflow.store.repairs import RepairOperations, job_row_params, wait_params

T = TypeVar("T")
ID_PATTERN = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)
"""Every execution id is a UUID: anything else names no execution (and PostgreSQL's UUID
columns would refuse it with an error rather than find nothing)."""


def is_execution_id(text: str) -> bool:
    """Whether `text` can be an execution's id."""
    return bool(ID_PATTERN.match(text))


class SqlCursor(Protocol):
    """What the stores use of a DBAPI cursor (sqlite3 and psycopg alike)."""

    rowcount: int

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...


class SqlConnection(Protocol):
    """What the stores use of a DBAPI connection: `execute` returning a cursor."""

    def execute(self, query: Any, params: Any = ...) -> Any: ...


def lease_lost(lease: Lease) -> LeaseLost:
    """The error of a write refused because the execution was claimed since."""
    return LeaseLost(f"execution {lease.execution_id} was claimed by another process")


def _change(lease: Lease, status: ExecutionStatus) -> StatusChange:
    return StatusChange(lease.execution_id, lease.workflow_name, status)


def job_params(lease: Lease, row: JobRow) -> dict[str, Any]:
    """The parameters of the job statements for `row`, fenced by `lease`."""
    return {**job_row_params(row), "fence": lease.fence}


def _execution_params(new: NewExecution) -> dict[str, Any]:
    return {
        "id": new.id,
        "workflow_name": new.workflow_name,
        "invoker": new.invoker_json,
        "key": new.idempotency_key,
        "now": new.created_at_ms,
        "arg": new.arg_json,
        "trigger_depth": new.trigger_depth,
        "trace_context": new.trace_context,
    }


StatusGroup = tuple[tuple[str, str] | None, list[ExecutionStatus]]
"""Statuses listed together: the partial index holding them, as (name, condition) (None:
none does), and them."""


def _by_index(statuses: Sequence[ExecutionStatus]) -> list[StatusGroup]:
    """The wanted statuses grouped by the index that holds them, in first-seen order."""
    groups: dict[tuple[str, str] | None, list[ExecutionStatus]] = {}
    for status in map(ExecutionStatus, statuses):  # a literal in the SQL: a status, surely
        group = groups.setdefault(STATUS_INDEXES.get(status), [])
        if status not in group:
            group.append(status)
    return list(groups.items())


def status_terms(group: StatusGroup) -> list[str]:
    """The WHERE terms of a group's executions: their statuses, and the condition of the
    index holding them, word for word (so that the planner may read that index)."""
    index, statuses = group
    if not statuses:
        return []
    own = f"e.status IN ({quoted(*statuses)})"
    return [own] if index is None else [own, index[1]]


def _where(terms: list[str]) -> str:
    return f" WHERE {' AND '.join(terms)}" if terms else ""


class SqlStore(RepairOperations):
    """The shared operations of the SQLite and PostgreSQL stores."""

    url: str
    display: str
    queries: Queries
    placeholder: str
    """How the driver writes a named parameter, with `{}` for the name."""
    index_hint: str = ""
    """How a query names the index to read (`{}`: its name), where the planner needs it."""

    # what each backend provides
    def _write(self, work: Callable[[SqlConnection], T], *, one_statement: bool = False) -> T:
        """Run `work` in a write transaction and commit it.

        `one_statement`: `work` changes data with one statement at most (reads may follow),
        so PostgreSQL runs it without BEGIN and COMMIT round trips.
        """
        raise NotImplementedError

    def _read(self, query: str, params: Mapping[str, Any] | None = None) -> list[Any]:
        """The rows of one read statement."""
        raise NotImplementedError

    def _write_fenced(
        self, work: Callable[[SqlConnection], T], *, one_statement: bool = False
    ) -> T:
        """Run a running execution's write (fenced by its lease) in a write transaction.

        PostgreSQL shares the transaction with concurrent writes (group commit).
        """
        return self._write(work, one_statement=one_statement)

    def _announce(self, *changes: StatusChange) -> None:
        """Tell listening processes about committed status changes (a trigger may do it)."""

    def _claim(
        self,
        owner: str,
        lease_ms: int,
        now_ms: int,
        limit: int,
        limits: ClaimLimits,
        *,
        execution_id: str | None = None,
        workflow_names: Sequence[str] = (),
    ) -> list[Lease]:
        """Claim runnable executions (one, or of some workflows) within the caps."""
        raise NotImplementedError

    # helpers
    def _in_list(self, prefix: str, values: Sequence[Any]) -> tuple[str, dict[str, Any]]:
        """`IN (...)` placeholders for `values`, and their parameters."""
        names = [f"{prefix}{index}" for index in range(len(values))]
        marks = ", ".join(self.placeholder.format(name) for name in names)
        return marks, dict(zip(names, values, strict=True))

    def check_lease_txn(self, connection: Any, lease: Lease) -> None:
        """Raise LeaseLost unless `lease` still owns its running execution, inside the
        caller's transaction (PostgreSQL also locks the row FOR SHARE until it ends)."""
        self._refuse_unless_owned_txn(connection, lease)

    def _refuse_unless_owned_txn(self, conn: SqlConnection, lease: Lease) -> None:
        found = conn.execute(
            self.queries.check_fence, {"execution_id": lease.execution_id, "fence": lease.fence}
        ).fetchone()
        if found is None:
            raise lease_lost(lease)

    # registry
    def sync_workflows(self, entries: Sequence[WorkflowEntry], now_ms: int) -> None:
        params = [
            {
                "name": entry.name,
                "id": str(uuid.uuid4()),
                "main_job": entry.main_job,
                "job_versions": json.dumps(entry.job_versions, sort_keys=True),
                "now": now_ms,
            }
            for entry in entries
        ]

        def sync(conn: SqlConnection) -> None:
            for entry in params:
                conn.execute(self.queries.sync_workflow, entry)

        if params:
            self._write(sync)

    def list_workflow_records(self) -> list[WorkflowRecord]:
        return [rows.workflow_record(row) for row in self._read(self.queries.list_workflows)]

    def job_versions_used(self, workflow_name: str) -> dict[str, set[str]]:
        found = self._read(self.queries.versions_used, {"workflow_name": workflow_name})
        return rows.versions_by_job(found)

    # executions
    def create_execution(self, new: NewExecution) -> str:
        params = _execution_params(new)

        def create(conn: SqlConnection) -> str:
            if conn.execute(self.queries.insert_execution, params).rowcount == 1:
                return new.id
            # a known idempotency key, or this very insert retried after a lost commit
            found = conn.execute(self.queries.find_existing_execution, params).fetchone()
            if found is None:
                raise StoreError(f"execution {new.id} could not be created")
            return str(found[0])

        execution_id = self._write(create, one_statement=True)
        if execution_id == new.id:
            self._announce(StatusChange(new.id, new.workflow_name, ExecutionStatus.PENDING))
        return execution_id

    def create_execution_txn(self, connection: Any, new: NewExecution) -> StatusChange:
        if connection.execute(self.queries.insert_execution, _execution_params(new)).rowcount != 1:
            raise StoreError(f"execution {new.id} could not be created")
        return StatusChange(new.id, new.workflow_name, ExecutionStatus.PENDING)

    def trigger_depth_txn(self, connection: Any, execution_id: str) -> int:
        if not is_execution_id(execution_id):
            return 0
        found = connection.execute(self.queries.trigger_depth, {"id": execution_id}).fetchone()
        return int(found[0]) if found else 0

    def announce_committed(self, changes: Sequence[StatusChange]) -> None:
        if changes:
            self._announce(*changes)

    def find_execution(self, execution_id: str, *, with_jobs: bool = False) -> Execution | None:
        if not is_execution_id(execution_id):
            return None
        query = f"{self.queries.select_executions} WHERE e.id = {self.placeholder.format('id')}"
        found = self._read(query, {"id": execution_id})
        if not found:
            return None
        jobs = self.load_job_rows(execution_id) if with_jobs else ()
        return rows.execution_from_row(found[0], jobs)

    def list_executions(
        self,
        *,
        workflow_name: str | None = None,
        statuses: Sequence[ExecutionStatus] = (),
        limit: int | None = None,
        before: str | None = None,
    ) -> list[Execution]:
        if before is not None and not is_execution_id(before):
            return []
        query, params = self.list_query(workflow_name, statuses, limit, before)
        return [rows.execution_from_row(row) for row in self._read(query, params)]

    def list_query(
        self,
        workflow_name: str | None,
        statuses: Sequence[ExecutionStatus],
        limit: int | None,
        before: str | None,
    ) -> tuple[str, dict[str, Any]]:
        """The statement `list_executions` runs, and its parameters."""
        where, params = [], {}
        if before is not None:
            mark = self.placeholder.format("before")
            where.append(f"e.id < (SELECT c.id FROM executions c WHERE c.id = {mark})")
            params["before"] = before
        if workflow_name is not None:
            where.append(f"e.workflow_name = {self.placeholder.format('workflow_name')}")
            params["workflow_name"] = workflow_name
        last = "" if limit is None else f" LIMIT {int(limit)}"
        groups = _by_index(statuses) or [(None, [])]
        # each index's statuses read from it, newest first; several indexes: merged
        branches = [
            f"{self.queries.select_executions}"
            f"{self.index_hint.format(index[0]) if index else ''}"
            f"{_where(status_terms((index, group)) + where)} ORDER BY e.id DESC{last}"
            for index, group in groups
        ]
        if len(branches) == 1:
            return branches[0], params
        merged = " UNION ALL ".join(f"SELECT * FROM ({b}) AS b{i}" for i, b in enumerate(branches))
        return f"{merged} ORDER BY 1 DESC{last}", params

    def claim_execution(
        self,
        execution_id: str,
        owner: str,
        lease_ms: int,
        now_ms: int,
        limits: ClaimLimits = NO_LIMITS,
    ) -> Lease | None:
        leases = self._claim(owner, lease_ms, now_ms, 1, limits, execution_id=execution_id)
        return leases[0] if leases else None

    def claim_runnable(
        self,
        owner: str,
        lease_ms: int,
        now_ms: int,
        limit: int,
        workflow_names: Sequence[str],
        limits: ClaimLimits = NO_LIMITS,
    ) -> list[Lease]:
        if not workflow_names or limit < 1:
            return []
        return self._claim(owner, lease_ms, now_ms, limit, limits, workflow_names=workflow_names)

    def next_wake_ms(self, workflow_names: Sequence[str]) -> int | None:
        if not workflow_names:
            return None
        marks, params = self._in_list("name", list(workflow_names))
        found = self._read(self.queries.next_wake.replace("{names}", marks), params)
        return int(found[0][0]) if found and found[0][0] is not None else None

    def pending_work(self) -> list[PendingWork]:
        found = self._read(self.queries.pending_work)
        return [PendingWork(str(name), int(count), int(since)) for name, count, since in found]

    def record_trace_context(self, lease: Lease, trace_context: str) -> None:
        params = {
            "execution_id": lease.execution_id,
            "fence": lease.fence,
            "trace_context": trace_context,
        }
        self._write_fenced(
            lambda conn: conn.execute(self.queries.record_trace_context, params), one_statement=True
        )

    def renew_leases(
        self, owner: str, execution_ids: Sequence[str], lease_ms: int, now_ms: int
    ) -> set[tuple[str, int]]:
        if not execution_ids:
            return set()
        marks, params = self._in_list("id", sorted(execution_ids))
        params.update(owner=owner, lease_ms=lease_ms, now=now_ms)
        query = self.queries.renew_leases.replace("{ids}", marks)
        renewed = self._write(
            lambda conn: conn.execute(query, params).fetchall(), one_statement=True
        )
        return {(str(row[0]), int(row[1])) for row in renewed}

    def release_execution(self, lease: Lease, now_ms: int) -> None:
        params = {"execution_id": lease.execution_id, "fence": lease.fence, "now": now_ms}
        released = self._write(
            lambda conn: conn.execute(self.queries.release_execution, params).rowcount,
            one_statement=True,
        )
        if released:
            self._announce(
                StatusChange(
                    lease.execution_id, lease.workflow_name, ExecutionStatus.PENDING_RESUME
                )
            )

    def mark_resumable(self, execution_id: str, now_ms: int) -> None:
        if not is_execution_id(execution_id):
            raise ExecutionNotFound(execution_id)

        def mark(conn: SqlConnection) -> str:
            params = {"id": execution_id, "now": now_ms}
            if conn.execute(self.queries.mark_resumable, params).rowcount:
                return self._workflow_of_txn(conn, execution_id)
            found = conn.execute(self.queries.execution_exists, params).fetchone()
            if found is None:
                raise ExecutionNotFound(execution_id)
            raise NotResumable(execution_id, str(found[0]))

        workflow_name = self._write(mark, one_statement=True)
        self._announce(StatusChange(execution_id, workflow_name, ExecutionStatus.PENDING_RESUME))

    def _workflow_of_txn(self, conn: SqlConnection, execution_id: str) -> str:
        query = f"SELECT workflow_name FROM executions WHERE id = {self.placeholder.format('id')}"
        return str(conn.execute(query, {"id": execution_id}).fetchone()[0])

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
        retrying = status == ExecutionStatus.PENDING_RETRY
        params = {
            "execution_id": lease.execution_id,
            "fence": lease.fence,
            "status": str(status),
            "now": now_ms,
            "finished_at": None if retrying else now_ms,
            "wake_at": wake_at_ms,
            "retried": 1 if retrying else 0,
            "result": main_job.result_json if status == ExecutionStatus.SUCCESS else None,
            "error": None if status == ExecutionStatus.SUCCESS else main_job.error_json,
        }

        def finish(conn: SqlConnection) -> None:
            if not conn.execute(self.queries.finish_execution, params).rowcount:
                raise lease_lost(lease)
            last = (
                self.queries.update_last_job if main_job_recorded else self.queries.insert_last_job
            )
            conn.execute(last, job_params(lease, main_job))

        self._write_fenced(finish)
        self._announce(_change(lease, status))

    # job executions
    def load_job_rows(self, execution_id: str) -> list[JobRow]:
        if not is_execution_id(execution_id):
            return []
        found = self._read(self.queries.select_jobs, {"execution_id": execution_id})
        return [rows.job_row(row) for row in found]

    def abandon_unfinished_jobs(self, lease: Lease, error_json: str, now_ms: int) -> int:
        params = {
            "execution_id": lease.execution_id,
            "fence": lease.fence,
            "now": now_ms,
            "error": error_json,
        }

        def abandon(conn: SqlConnection) -> int:
            self._refuse_unless_owned_txn(conn, lease)
            return int(conn.execute(self.queries.abandon_jobs, params).rowcount)

        return self._write(abandon, one_statement=True)

    def record_job_start(self, lease: Lease, row: JobRow) -> None:
        self._write_fenced(
            lambda conn: self.write_job_txn(conn, lease, row, False), one_statement=True
        )

    def record_job_result(self, lease: Lease, row: JobRow, *, started_recorded: bool) -> None:
        self._write_fenced(
            lambda conn: self.write_job_txn(conn, lease, row, started_recorded),
            one_statement=True,
        )

    def record_job_result_txn(
        self, connection: Any, lease: Lease, row: JobRow, *, started_recorded: bool
    ) -> None:
        self.write_job_txn(connection, lease, row, started_recorded)

    def write_job_txn(self, conn: SqlConnection, lease: Lease, row: JobRow, update: bool) -> None:
        """Insert or update a job row inside the caller's transaction, fenced by `lease`."""
        params = job_params(lease, row)
        statement = self.queries.update_job if update else self.queries.insert_job
        if conn.execute(statement, params).rowcount == 1:
            return
        found = conn.execute(self.queries.write_outcome, params).fetchone()
        owned, existing = found if found else (None, None)
        if owned is None:
            raise lease_lost(lease)
        if existing is None:
            raise StoreError(f"job execution #{row.seq} of execution {row.execution_id} is missing")

    # waits
    def load_waits(self, execution_id: str) -> list[WaitRow]:
        if not is_execution_id(execution_id):
            return []
        found = self._read(self.queries.select_waits, {"execution_id": execution_id})
        return [rows.wait_row(row) for row in found]

    def record_wait(self, lease: Lease, wait: WaitRow) -> None:
        params = {**wait_params(wait), "fence": lease.fence}

        def record(conn: SqlConnection) -> None:
            if not conn.execute(self.queries.insert_wait, params).rowcount:
                self._refuse_unless_owned_txn(conn, lease)  # else: recorded by a retry

        self._write_fenced(record, one_statement=True)

    def park_execution(self, lease: Lease, wake_at_ms: int | None, now_ms: int) -> None:
        params = {
            "execution_id": lease.execution_id,
            "fence": lease.fence,
            "wake_at": wake_at_ms,
            "now": now_ms,
        }
        park = self.queries.park_execution

        def parked(conn: SqlConnection) -> None:
            if not conn.execute(park, params).rowcount:
                raise lease_lost(lease)

        self._write_fenced(parked, one_statement=True)
        self._announce(_change(lease, ExecutionStatus.WAITING))

    def resolve_wait(self, execution_id: str, key: str, result_json: str, now_ms: int) -> None:
        if not is_execution_id(execution_id):
            raise ExecutionNotFound(execution_id)
        params = {"id": execution_id, "key": key, "result": result_json, "now": now_ms}

        def resolve(conn: SqlConnection) -> str:
            found = conn.execute(self.queries.lock_execution, params).fetchone()
            if found is None:
                raise ExecutionNotFound(execution_id)
            waits = conn.execute(self.queries.waits_at_key, params).fetchall()
            waiting_at = conn.execute(self.queries.pending_wait_points, params).fetchall()
            check_resolvable(
                execution_id,
                key,
                found[0],
                [row[0] for row in waits],
                [row[0] for row in waiting_at if found[0] == ExecutionStatus.WAITING],
            )
            conn.execute(self.queries.resolve_wait, params)
            conn.execute(self.queries.resume_resolved, params)
            return self._workflow_of_txn(conn, execution_id)

        workflow_name = self._write(resolve)
        self._announce(StatusChange(execution_id, workflow_name, ExecutionStatus.PENDING_RESUME))

    # cancel
    def request_cancel(self, execution_id: str, now_ms: int) -> ExecutionStatus:
        if not is_execution_id(execution_id):
            raise ExecutionNotFound(execution_id)
        params = {"id": execution_id, "now": now_ms}

        def cancel(conn: SqlConnection) -> tuple[ExecutionStatus, str]:
            found = conn.execute(self.queries.lock_execution, params).fetchone()
            if found is None:
                raise ExecutionNotFound(execution_id)
            status = cancel_outcome(execution_id, found[0], found[1], found[2])
            if status == ExecutionStatus.CANCELED:
                conn.execute(self.queries.cancel_at_once, params)
            else:
                conn.execute(self.queries.cancel_later, params)
            return status, self._workflow_of_txn(conn, execution_id)

        status, workflow_name = self._write(cancel)
        if status == ExecutionStatus.CANCELED:
            self._announce(StatusChange(execution_id, workflow_name, status))
        return status

    def cancel_requested(self, execution_ids: Sequence[str]) -> set[str]:
        execution_ids = [i for i in execution_ids if is_execution_id(i)]
        if not execution_ids:
            return set()
        marks, params = self._in_list("id", list(execution_ids))
        found = self._read(self.queries.cancel_requested.replace("{ids}", marks), params)
        return {row[0] for row in found}

    # schedules and workers
    def schedule_first_seen(self, name: str, now_ms: int) -> int:
        params = {"name": name, "now": now_ms}

        def first_seen(conn: SqlConnection) -> int:
            conn.execute(self.queries.schedule_seen, params)
            return int(conn.execute(self.queries.schedule_first_seen, params).fetchone()[0])

        return self._write(first_seen, one_statement=True)

    def record_schedule_error(self, name: str, message: str, now_ms: int) -> None:
        params = {"name": name, "error": message, "now": now_ms}

        def record(conn: SqlConnection) -> None:
            conn.execute(self.queries.schedule_seen, params)
            conn.execute(self.queries.schedule_error, params)

        self._write(record)

    def schedule_states(self) -> dict[str, ScheduleState]:
        found = self._read(self.queries.schedule_states)
        return {row[0]: ScheduleState(row[0], int(row[1]), row[2], row[3]) for row in found}

    def register_worker(self, worker_id: str, info: str, now_ms: int) -> None:
        params = {"id": worker_id, "info": info, "now": now_ms}
        self._write(
            lambda conn: conn.execute(self.queries.register_worker, params), one_statement=True
        )

    def remove_worker(self, worker_id: str) -> None:
        remove = self.queries.remove_worker
        self._write(lambda conn: conn.execute(remove, {"id": worker_id}), one_statement=True)

    def live_worker_count(self, now_ms: int, stale_ms: int) -> int:
        found = self._read(self.queries.live_workers, {"since": now_ms - stale_ms})
        return int(found[0][0])

    # claims, for the backends
    def _claim_one_txn(
        self, conn: SqlConnection, candidate: Sequence[Any], params: dict[str, Any]
    ) -> Lease:
        """Claim one candidate row (id, workflow name, status, runnable since)."""
        execution_id, _, status, runnable_since = candidate
        found = conn.execute(self.queries.claim_one, {**params, "id": execution_id}).fetchone()
        taken_over = status == ExecutionStatus.RUNNING
        return rows.lease((*found, taken_over, runnable_since), params["owner"])

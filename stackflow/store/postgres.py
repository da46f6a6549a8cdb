"""The PostgreSQL store: a connection pool, SKIP LOCKED claims, fenced writes, LISTEN/NOTIFY."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from stackflow.errors import ExecutionNotFound, LeaseLost, NotResumable, StoreError
from stackflow.records import Execution, WorkflowRecord
from stackflow.store import postgres_sql as sql
from stackflow.store import rows
from stackflow.store.base import (
    NO_LIMITS,
    ClaimLimits,
    JobRow,
    Lease,
    NewExecution,
    WaitRow,
    WorkflowEntry,
)
from stackflow.store.decisions import cancel_outcome, check_resolvable, within_limits
from stackflow.store.migrations import latest_version, migration_scripts

POOL_MIN_SIZE = 1
POOL_MAX_SIZE = 16
POOL_TIMEOUT_SECONDS = 10.0
CONNECT_TIMEOUT_SECONDS = 10
RECONNECT_SECONDS = 60.0
"""How long an operation keeps retrying while the server is unreachable (e.g. restarting)."""
RETRY_FIRST_DELAY_SECONDS = 0.05
RETRY_MAX_DELAY_SECONDS = 1.0
CLAIM_LOOKAHEAD = 50

T = TypeVar("T")
Connection = psycopg.Connection[Any]
TRANSIENT_ERRORS: tuple[type[Exception], ...] = (psycopg.OperationalError, PoolTimeout)


def display_url(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    user = f"{parts.username}@" if parts.username else ""
    return urlunsplit(parts._replace(netloc=f"{user}{host}"))


def _lease_lost(lease: Lease) -> LeaseLost:
    return LeaseLost(f"execution {lease.execution_id} was claimed by another process")


def _capped(limits: ClaimLimits) -> bool:
    return limits.max_running is not None or bool(limits.per_workflow)


def _leases(found: Sequence[Sequence[Any]], owner: str) -> list[Lease]:
    """Leases from claim rows (id, workflow, fence, invoker, arg, retries, created, order)."""
    ordered = sorted(found, key=lambda row: (row[6], row[7]))
    return [Lease(row[0], row[1], owner, row[2], row[4], row[3], row[5]) for row in ordered]


def _job_params(lease: Lease, row: JobRow) -> dict[str, Any]:
    return {
        "execution_id": row.execution_id,
        "fence": lease.fence,
        "seq": row.seq,
        "id": row.id,
        "call_path": row.call_path,
        "job_name": row.job_name,
        "stacked_job_name": row.stacked_job_name,
        "status": row.status,
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


class PostgresStore:
    """The Store on one PostgreSQL database, shared by any number of processes and machines.

    Every operation is one statement (or one short transaction) on a pooled
    connection. While the server is unreachable an operation is retried for up
    to RECONNECT_SECONDS; writes are safe to repeat (a job row already written
    by an unacknowledged commit is recognised by its id).
    """

    backend = "postgres"

    def __init__(self, url: str) -> None:
        self.url = url
        self.display = display_url(url)
        self._closed = False
        self._migrate()
        self._pool: ConnectionPool[Connection] = ConnectionPool(
            url,
            kwargs={"autocommit": True},
            min_size=POOL_MIN_SIZE,
            max_size=POOL_MAX_SIZE,
            timeout=POOL_TIMEOUT_SECONDS,
            name="stackflow",
            open=True,
        )
        self._listen_lock = threading.Lock()
        self._listener: Connection | None = None

    def close(self) -> None:
        self._closed = True
        with self._listen_lock:
            if self._listener is not None:
                self._listener.close()
                self._listener = None
        self._pool.close()

    # plumbing
    def _connect(self, **options: Any) -> Connection:
        try:
            return psycopg.connect(
                self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_SECONDS, **options
            )
        except psycopg.Error as error:
            raise StoreError(f"cannot connect to PostgreSQL at {self.display}: {error}") from None

    def _run(self, work: Callable[[Connection], T]) -> T:
        """Run `work` on a pooled connection, retrying while the server is unreachable."""
        deadline = time.monotonic() + RECONNECT_SECONDS
        delay = RETRY_FIRST_DELAY_SECONDS
        while True:
            try:
                with self._pool.connection() as conn:
                    return work(conn)
            except TRANSIENT_ERRORS as error:
                if self._closed or time.monotonic() + delay > deadline:
                    raise StoreError(f"store {self.display}: {error}") from None
                self._pool.check()  # drop the pooled connections the server closed
            except psycopg.Error as error:
                raise StoreError(f"store {self.display}: {error}") from None
            time.sleep(delay)
            delay = min(delay * 2, RETRY_MAX_DELAY_SECONDS)

    def _read(self, query: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[Any]:
        return self._run(lambda conn: conn.execute(query, params).fetchall())

    def _migrate(self) -> None:
        with self._connect() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (sql.MIGRATION_LOCK_KEY,))
            version = self._schema_version(conn)
            latest = latest_version(self.backend)
            if version > latest:
                raise StoreError(
                    f"{self.display} was written by a newer stackflow (schema version {version}, "
                    f"this one knows up to {latest}): upgrade stackflow to use it"
                )
            for script_version, script in migration_scripts(self.backend):
                if script_version > version:
                    self._apply_txn(conn, script_version, script)

    def _schema_version(self, conn: Connection) -> int:
        present = {
            row[0]
            for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
            )
        }
        if "stackflow_meta" not in present:
            clashing = sorted(present.intersection(sql.STORE_TABLES))
            if clashing:
                raise StoreError(
                    f"{self.display} is not a stackflow store (it holds tables named "
                    f"{', '.join(clashing)}); use another database or schema"
                )
            return 0
        found = conn.execute(
            "SELECT value FROM stackflow_meta WHERE key = 'schema_version'"
        ).fetchone()
        return int(found[0]) if found else 0

    @staticmethod
    def _apply_txn(conn: Connection, version: int, script: str) -> None:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS stackflow_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
        )
        conn.execute(script.encode("utf-8"))
        conn.execute(
            "INSERT INTO stackflow_meta (key, value) VALUES ('schema_version', %s) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (str(version),),
        )

    # waiting for work
    def wait_for_work(self, timeout_seconds: float) -> None:
        """Block until an execution may have become runnable (NOTIFY) or the timeout passes."""
        deadline = time.monotonic() + timeout_seconds
        with self._listen_lock:
            try:
                listener = self._listening()
                if any(True for _ in listener.notifies(timeout=timeout_seconds, stop_after=1)):
                    for _ in listener.notifies(timeout=0.0):  # drain the backlog
                        pass
                return
            except (psycopg.Error, StoreError):
                if self._listener is not None:
                    self._listener.close()
                    self._listener = None
        time.sleep(max(0.0, deadline - time.monotonic()))

    def _listening(self) -> Connection:
        if self._listener is None or self._listener.closed:
            listener = self._connect()
            listener.execute(f"LISTEN {sql.WORK_CHANNEL}")
            self._listener = listener
        return self._listener

    # registry
    def sync_workflows(self, entries: Sequence[WorkflowEntry], now_ms: int) -> None:
        params = [
            (
                entry.name,
                str(uuid.uuid4()),
                entry.main_job,
                json.dumps(entry.job_versions, sort_keys=True),
                now_ms,
                now_ms,
            )
            for entry in entries
        ]

        def sync(conn: Connection) -> None:
            with conn.transaction(), conn.cursor() as cursor:
                cursor.executemany(sql.SYNC_WORKFLOW, params)

        if params:
            self._run(sync)

    def list_workflow_records(self) -> list[WorkflowRecord]:
        return [rows.workflow_record(row) for row in self._read(rows.WORKFLOW_SELECT)]

    def job_versions_used(self, workflow_name: str) -> dict[str, set[str]]:
        found = self._read(rows.VERSIONS_USED_SELECT.format(p="%s"), (workflow_name,))
        return rows.versions_by_job(found)

    # executions
    def create_execution(self, new: NewExecution) -> str:
        params = {
            "id": new.id,
            "workflow_name": new.workflow_name,
            "invoker": new.invoker_json,
            "key": new.idempotency_key,
            "now": new.created_at_ms,
            "arg": new.arg_json,
        }

        def create(conn: Connection) -> str:
            found = conn.execute(sql.CREATE_EXECUTION, params).fetchone()
            if found is None:  # a known idempotency key, or this very insert, retried
                found = conn.execute(sql.FIND_EXISTING_EXECUTION, params).fetchone()
            if found is None:
                raise StoreError(f"execution {new.id} could not be created")
            return str(found[0])

        return self._run(create)

    def find_execution(self, execution_id: str, *, with_jobs: bool = False) -> Execution | None:
        found = self._read(f"{rows.EXECUTION_SELECT} WHERE e.id = %s", (execution_id,))
        if not found:
            return None
        jobs = self.load_job_rows(execution_id) if with_jobs else ()
        return rows.execution_from_row(found[0], jobs)

    def list_executions(
        self,
        *,
        workflow_name: str | None = None,
        statuses: Sequence[str] = (),
        limit: int | None = None,
        before: str | None = None,
    ) -> list[Execution]:
        where: list[str] = ["TRUE"]
        params: dict[str, Any] = {}
        if before is not None:
            where.append(
                "(e.created_at, e.insert_order) < "
                "(SELECT c.created_at, c.insert_order FROM executions c WHERE c.id = %(before)s)"
            )
            params["before"] = before
        if workflow_name is not None:
            where.append("e.workflow_name = %(workflow_name)s")
            params["workflow_name"] = workflow_name
        if statuses:
            where.append("e.status = ANY(%(statuses)s)")
            params["statuses"] = list(statuses)
        query = (
            f"{rows.EXECUTION_SELECT} WHERE {' AND '.join(where)} "
            "ORDER BY e.created_at DESC, e.insert_order DESC"
        )
        if limit is not None:
            query += f" LIMIT {int(limit)}"
        return [rows.execution_from_row(row) for row in self._read(query, params)]

    def claim_execution(
        self,
        execution_id: str,
        owner: str,
        lease_ms: int,
        now_ms: int,
        limits: ClaimLimits = NO_LIMITS,
    ) -> Lease | None:
        params = {"id": execution_id, "owner": owner, "now": now_ms, "expires": now_ms + lease_ms}
        if _capped(limits):
            leases = self._claim_capped({**params, "names": None}, 1, limits, owner)
        else:
            leases = self._claim(sql.CLAIM_ONE, params, owner)
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
        params = {
            "names": list(workflow_names),
            "limit": limit,
            "owner": owner,
            "now": now_ms,
            "expires": now_ms + lease_ms,
        }
        if _capped(limits):
            return self._claim_capped({**params, "id": None}, limit, limits, owner)
        return self._claim(sql.CLAIM_RUNNABLE, params, owner)

    def _claim(self, query: str, params: dict[str, Any], owner: str) -> list[Lease]:
        return _leases(self._read(query, params), owner)

    def _claim_capped(
        self, params: dict[str, Any], limit: int, limits: ClaimLimits, owner: str
    ) -> list[Lease]:
        """Claim under caps: one claimer at a time counts the running executions."""

        def claim(conn: Connection) -> list[Lease]:
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (sql.CLAIM_LOCK_KEY,))
                candidates = conn.execute(
                    sql.CLAIM_CANDIDATES, {**params, "limit": limit + CLAIM_LOOKAHEAD}
                ).fetchall()
                if not candidates:
                    return []
                running = dict(conn.execute(sql.RUNNING_COUNTS, params).fetchall())
                chosen = within_limits(candidates, running, limits, limit)
                if not chosen:
                    return []
                found = conn.execute(sql.CLAIM_CHOSEN, {**params, "ids": chosen}).fetchall()
                return _leases(found, owner)

        return self._run(claim)

    def renew_leases(
        self, owner: str, execution_ids: Sequence[str], lease_ms: int, now_ms: int
    ) -> None:
        if not execution_ids:
            return
        params = {"ids": list(execution_ids), "owner": owner, "expires": now_ms + lease_ms}
        self._run(lambda conn: conn.execute(sql.RENEW_LEASES, params))

    def release_execution(self, lease: Lease, now_ms: int) -> None:
        params = {"execution_id": lease.execution_id, "fence": lease.fence, "now": now_ms}
        self._run(lambda conn: conn.execute(sql.RELEASE_EXECUTION, params))

    def mark_resumable(self, execution_id: str, now_ms: int) -> None:
        def mark(conn: Connection) -> None:
            if conn.execute(sql.MARK_RESUMABLE, {"id": execution_id, "now": now_ms}).rowcount:
                return
            exists = conn.execute("SELECT 1 FROM executions WHERE id = %s", (execution_id,))
            if exists.fetchone() is None:
                raise ExecutionNotFound(execution_id)
            raise NotResumable(execution_id)

        self._run(mark)

    def finish_execution(
        self,
        lease: Lease,
        main_job: JobRow,
        *,
        main_job_recorded: bool,
        status: str,
        result_json: str | None,
        error_json: str | None,
        now_ms: int,
        wake_at_ms: int | None = None,
    ) -> None:
        retrying = status == "PENDING_RETRY"
        params = {
            "execution_id": lease.execution_id,
            "fence": lease.fence,
            "status": status,
            "now": now_ms,
            "finished_at": None if retrying else now_ms,
            "wake_at": wake_at_ms,
            "retried": 1 if retrying else 0,
            "result": result_json,
            "error": error_json,
        }

        def finish(conn: Connection) -> None:
            with conn.transaction():
                found = conn.execute(sql.FINISH_EXECUTION, params).fetchone()
                if not found or not found[0]:
                    raise _lease_lost(lease)
                self._write_job_txn(conn, lease, main_job, main_job_recorded)

        self._run(finish)

    # job executions
    def load_job_rows(self, execution_id: str) -> list[JobRow]:
        found = self._read(
            f"SELECT {rows.JOB_COLUMNS} FROM job_executions j "
            "JOIN job_payloads p ON p.id = j.payload_id "
            "WHERE j.execution_id = %s ORDER BY j.seq",
            (execution_id,),
        )
        return [rows.job_row(row) for row in found]

    def abandon_unfinished_jobs(self, lease: Lease, error_json: str, now_ms: int) -> int:
        params = {
            "execution_id": lease.execution_id,
            "fence": lease.fence,
            "now": now_ms,
            "error": error_json,
        }
        found = self._run(lambda conn: conn.execute(sql.ABANDON_UNFINISHED_JOBS, params).fetchone())
        owned, abandoned = found if found else (0, 0)
        if not owned:
            raise _lease_lost(lease)
        return int(abandoned)

    def record_job_start(self, lease: Lease, row: JobRow) -> None:
        self._run(lambda conn: self._write_job_txn(conn, lease, row, False))

    def record_job_result(self, lease: Lease, row: JobRow, *, started_recorded: bool) -> None:
        self._run(lambda conn: self._write_job_txn(conn, lease, row, started_recorded))

    def record_job_result_txn(
        self, connection: Any, lease: Lease, row: JobRow, *, started_recorded: bool
    ) -> None:
        self._write_job_txn(connection, lease, row, started_recorded)

    @staticmethod
    def _write_job_txn(conn: Any, lease: Lease, row: JobRow, update: bool) -> None:
        """Insert or update a job row, fenced; `conn` is any psycopg connection in autocommit
        or inside the caller's transaction."""
        params = _job_params(lease, row)
        with conn.cursor() as cursor:
            cursor.execute(sql.UPDATE_JOB if update else sql.INSERT_JOB, params)
            written = cursor.fetchone()
            if written is not None:
                row.payload_id = int(written[0])
                return
            cursor.execute(sql.WRITE_OUTCOME, params)
            found = cursor.fetchone()
        fence, payload_id = found if found else (None, None)
        if fence != lease.fence:
            raise _lease_lost(lease)
        if not update:
            if payload_id is None:
                raise StoreError(
                    f"job execution #{row.seq} of execution {row.execution_id} already exists"
                )
            row.payload_id = int(payload_id)

    # waits, cancel, schedules
    def load_waits(self, execution_id: str) -> list[WaitRow]:
        found = self._read(
            f"SELECT {rows.WAIT_COLUMNS} FROM waits WHERE execution_id = %s", (execution_id,)
        )
        return [rows.wait_row(row) for row in found]

    def record_wait(self, lease: Lease, wait: WaitRow) -> None:
        params = {
            "execution_id": wait.execution_id,
            "fence": lease.fence,
            "call_path": wait.call_path,
            "kind": wait.kind,
            "key": wait.key,
            "payload": wait.payload_json,
            "result": wait.result_json,
            "wake_at": wait.wake_at_ms,
            "created_at": wait.created_at_ms,
            "resolved_at": wait.resolved_at_ms,
        }
        found = self._run(lambda conn: conn.execute(sql.RECORD_WAIT, params).fetchone())
        if not found or not found[0]:
            raise _lease_lost(lease)

    def park_execution(self, lease: Lease, wake_at_ms: int | None, now_ms: int) -> None:
        params = {
            "execution_id": lease.execution_id,
            "fence": lease.fence,
            "wake_at": wake_at_ms,
            "now": now_ms,
        }
        if not self._run(lambda conn: conn.execute(sql.PARK_EXECUTION, params).rowcount):
            raise _lease_lost(lease)

    def resolve_wait(self, execution_id: str, key: str, result_json: str, now_ms: int) -> None:
        params = {"id": execution_id, "key": key, "result": result_json, "now": now_ms}

        def resolve(conn: Connection) -> None:
            with conn.transaction():
                found = conn.execute(
                    "SELECT status FROM executions WHERE id = %s FOR UPDATE", (execution_id,)
                ).fetchone()
                if found is None:
                    raise ExecutionNotFound(execution_id)
                waits = conn.execute(
                    "SELECT resolved_at FROM waits WHERE execution_id = %s "
                    "AND kind = 'wait_point' AND wait_key = %s",
                    (execution_id, key),
                ).fetchall()
                check_resolvable(execution_id, key, found[0], [row[0] for row in waits])
                conn.execute(sql.RESOLVE_WAIT, params)

        self._run(resolve)

    def request_cancel(self, execution_id: str, now_ms: int) -> str:
        params = {"id": execution_id, "now": now_ms}

        def cancel(conn: Connection) -> str:
            with conn.transaction():
                found = conn.execute(
                    "SELECT status, lease_expires_at FROM executions WHERE id = %s FOR UPDATE",
                    (execution_id,),
                ).fetchone()
                if found is None:
                    raise ExecutionNotFound(execution_id)
                status = cancel_outcome(execution_id, found[0], found[1], now_ms)
                conn.execute(
                    sql.CANCEL_AT_ONCE if status == "CANCELED" else sql.CANCEL_LATER, params
                )
                return status

        return self._run(cancel)

    def cancel_requested(self, execution_ids: Sequence[str]) -> set[str]:
        if not execution_ids:
            return set()
        found = self._read(
            "SELECT id FROM executions WHERE cancel_requested = 1 AND id = ANY(%s)",
            (list(execution_ids),),
        )
        return {row[0] for row in found}

    def schedule_first_seen(self, name: str, now_ms: int) -> int:
        def first_seen(conn: Connection) -> int:
            conn.execute(
                "INSERT INTO schedules (name, created_at) VALUES (%s, %s) "
                "ON CONFLICT (name) DO NOTHING",
                (name, now_ms),
            )
            found = conn.execute(
                "SELECT created_at FROM schedules WHERE name = %s", (name,)
            ).fetchone()
            if found is None:
                raise StoreError(f"schedule {name!r} could not be recorded")
            return int(found[0])

        return self._run(first_seen)

    # workers
    def register_worker(self, worker_id: str, info: str, now_ms: int) -> None:
        params = (worker_id, info, now_ms, now_ms)
        self._run(lambda conn: conn.execute(sql.REGISTER_WORKER, params))

    def remove_worker(self, worker_id: str) -> None:
        self._run(lambda conn: conn.execute("DELETE FROM workers WHERE id = %s", (worker_id,)))

    def live_worker_count(self, now_ms: int, stale_ms: int) -> int:
        found = self._read(
            "SELECT count(*) FROM workers WHERE heartbeat_at > %s", (now_ms - stale_ms,)
        )
        return int(found[0][0])

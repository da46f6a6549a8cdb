"""The embedded SQLite store: WAL, a busy timeout, BEGIN IMMEDIATE writes, fenced leases."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from stackflow.errors import ExecutionNotFound, NotResumable, StoreError
from stackflow.records import Execution, WorkflowRecord
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
from stackflow.store.decisions import cancel_outcome, check_resolvable
from stackflow.store.migrations import latest_version, migration_scripts
from stackflow.store.sqlite_txn import (
    check_fence,
    claim_txn,
    claimable_txn,
    refuse_if_lost,
    write_job_txn,
)

BUSY_TIMEOUT_SECONDS = 30.0
WAL_AUTOCHECKPOINT_PAGES = 10_000
"""Commits checkpoint the WAL only past this many pages; the heartbeat does it before."""
SYNCHRONOUS_MODES = ("OFF", "NORMAL", "FULL", "EXTRA")


def sqlite_path(url: str) -> str:
    """The file path of a `sqlite:///relative` or `sqlite:////absolute` URL."""
    if not url.startswith("sqlite:///"):
        raise StoreError(f"not a SQLite URL: {url!r} (expected sqlite:///path/to/state.db)")
    path = url[len("sqlite:///") :]
    if not path:
        raise StoreError(f"SQLite URL {url!r} names no file")
    return path


class SqliteStore:
    """The Store on one SQLite file, shared safely by threads and processes."""

    backend = "sqlite"

    def __init__(self, url: str, *, synchronous: str = "NORMAL") -> None:
        self.url = url
        self.path = sqlite_path(url)
        mode = synchronous.upper()
        if mode not in SYNCHRONOUS_MODES:
            raise StoreError(f"sqlite synchronous must be one of {', '.join(SYNCHRONOUS_MODES)}")
        self._lock = threading.RLock()
        self._checkpoint_lock = threading.Lock()
        self._checkpointer: sqlite3.Connection | None = None
        try:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(
                self.path,
                isolation_level=None,
                check_same_thread=False,
                timeout=BUSY_TIMEOUT_SECONDS,
            )
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute(f"PRAGMA synchronous={mode}")
            self._conn.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}")
            self._migrate()
        except sqlite3.DatabaseError as error:
            raise self._explain(error) from None
        except OSError as error:
            raise StoreError(f"cannot open the store {self.path}: {error.strerror}") from None

    def _explain(self, error: sqlite3.Error) -> StoreError:
        text = str(error)
        if "readonly" in text or "read-only" in text:
            return StoreError(
                f"the store {self.path} is read-only: give this user write access to the file "
                "and its directory, or set database to another file"
            )
        if "unable to open database file" in text:
            return StoreError(
                f"cannot open the store {self.path}: it is missing or read-only; the file and "
                "its directory must be writable"
            )
        if "not a database" in text:
            return StoreError(f"{self.path} is not a stackflow store (not an SQLite database)")
        return StoreError(f"store {self.path}: {text}")

    def close(self) -> None:
        with self._lock:
            self._conn.close()
        with self._checkpoint_lock:
            if self._checkpointer is not None:
                self._checkpointer.close()
                self._checkpointer = None

    def checkpoint(self) -> None:
        """Copy the WAL back into the database without blocking writers (PASSIVE).

        Run by the engine's heartbeat on a connection of its own, so that commits on
        the hot path rarely pay for a checkpoint (and its fsync) themselves.
        """
        with self._checkpoint_lock:
            if self._checkpointer is None:
                self._checkpointer = sqlite3.connect(
                    self.path, isolation_level=None, check_same_thread=False, timeout=0.1
                )
            try:
                self._checkpointer.execute("PRAGMA wal_checkpoint(PASSIVE)")
            except sqlite3.Error:
                return  # busy or locked: the next beat tries again

    def wait_for_work(self, timeout_seconds: float) -> None:
        time.sleep(timeout_seconds)

    # plumbing
    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as error:
                raise self._explain(error) from None
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            try:
                self._conn.execute("COMMIT")
            except sqlite3.Error as error:
                self._conn.execute("ROLLBACK")
                raise self._explain(error) from None

    def _read(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[Any]:
        with self._lock:
            try:
                return self._conn.execute(sql, params).fetchall()
            except sqlite3.Error as error:
                raise self._explain(error) from None

    def _migrate(self) -> None:
        tables = {row[0] for row in self._read("SELECT name FROM sqlite_master WHERE type='table'")}
        if tables and "stackflow_meta" not in tables:
            raise StoreError(
                f"{self.path} is not a stackflow store (it holds other tables); "
                "set database to another file"
            )
        version = 0
        if tables:
            found = self._read("SELECT value FROM stackflow_meta WHERE key = 'schema_version'")
            version = int(found[0][0]) if found else 0
        latest = latest_version(self.backend)
        if version > latest:
            raise StoreError(
                f"{self.path} was written by a newer stackflow (schema version {version}, "
                f"this one knows up to {latest}): upgrade stackflow to use it"
            )
        for script_version, script in migration_scripts(self.backend):
            if script_version > version:
                self._apply(script_version, script)

    def _apply(self, version: int, script: str) -> None:
        with self._write() as conn:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS stackflow_meta "
                "(key TEXT PRIMARY KEY, value TEXT NOT NULL)"
            )
            for statement in script.split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(
                "INSERT INTO stackflow_meta (key, value) VALUES ('schema_version', ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (str(version),),
            )

    # registry
    def sync_workflows(self, entries: Sequence[WorkflowEntry], now_ms: int) -> None:
        with self._write() as conn:
            for entry in entries:
                versions = json.dumps(entry.job_versions, sort_keys=True)
                found = conn.execute(
                    "SELECT main_job, job_versions FROM workflows WHERE name = ?", (entry.name,)
                ).fetchone()
                if found is None:
                    conn.execute(
                        "INSERT INTO workflows VALUES (?, ?, ?, ?, ?, ?)",
                        (entry.name, str(uuid.uuid4()), entry.main_job, versions, now_ms, now_ms),
                    )
                elif tuple(found) != (entry.main_job, versions):
                    conn.execute(
                        "UPDATE workflows SET main_job = ?, job_versions = ?, updated_at = ? "
                        "WHERE name = ?",
                        (entry.main_job, versions, now_ms, entry.name),
                    )

    def list_workflow_records(self) -> list[WorkflowRecord]:
        return [rows.workflow_record(row) for row in self._read(rows.WORKFLOW_SELECT)]

    def job_versions_used(self, workflow_name: str) -> dict[str, set[str]]:
        found = self._read(rows.VERSIONS_USED_SELECT.format(p="?"), (workflow_name,))
        return rows.versions_by_job(found)

    # executions
    def create_execution(self, new: NewExecution) -> str:
        with self._write() as conn:
            if new.idempotency_key is not None:
                found = conn.execute(
                    "SELECT id FROM executions WHERE idempotency_key = ?", (new.idempotency_key,)
                ).fetchone()
                if found:
                    return str(found[0])
            conn.execute(
                "INSERT INTO executions (id, workflow_name, status, invoker, idempotency_key, "
                "created_at, updated_at) VALUES (?, ?, 'PENDING', ?, ?, ?, ?)",
                (
                    new.id,
                    new.workflow_name,
                    new.invoker_json,
                    new.idempotency_key,
                    new.created_at_ms,
                    new.created_at_ms,
                ),
            )
            conn.execute(
                "INSERT INTO execution_payloads (execution_id, arg) VALUES (?, ?)",
                (new.id, new.arg_json),
            )
        return new.id

    def find_execution(self, execution_id: str, *, with_jobs: bool = False) -> Execution | None:
        found = self._read(f"{rows.EXECUTION_SELECT} WHERE e.id = ?", (execution_id,))
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
        where, params = ["1 = 1"], []
        if before is not None:
            where.append(
                "(e.created_at, e.rowid) < "
                "(SELECT c.created_at, c.rowid FROM executions c WHERE c.id = ?)"
            )
            params.append(before)
        if workflow_name is not None:
            where.append("e.workflow_name = ?")
            params.append(workflow_name)
        if statuses:
            where.append(f"e.status IN ({', '.join('?' * len(statuses))})")
            params.extend(statuses)
        sql = (
            f"{rows.EXECUTION_SELECT} WHERE {' AND '.join(where)} "
            "ORDER BY e.created_at DESC, e.rowid DESC"
        )
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [rows.execution_from_row(row) for row in self._read(sql, params)]

    def claim_execution(
        self,
        execution_id: str,
        owner: str,
        lease_ms: int,
        now_ms: int,
        limits: ClaimLimits = NO_LIMITS,
    ) -> Lease | None:
        with self._write() as conn:
            found = claimable_txn(conn, now_ms, 1, limits, execution_id=execution_id)
            return claim_txn(conn, found[0], owner, lease_ms, now_ms) if found else None

    def claim_runnable(
        self,
        owner: str,
        lease_ms: int,
        now_ms: int,
        limit: int,
        workflow_names: Sequence[str],
        limits: ClaimLimits = NO_LIMITS,
    ) -> list[Lease]:
        if not workflow_names:
            return []
        with self._write() as conn:
            found = claimable_txn(conn, now_ms, limit, limits, workflow_names=workflow_names)
            return [claim_txn(conn, id_, owner, lease_ms, now_ms) for id_ in found]

    def renew_leases(
        self, owner: str, execution_ids: Sequence[str], lease_ms: int, now_ms: int
    ) -> None:
        if not execution_ids:
            return
        marks = ", ".join("?" * len(execution_ids))
        with self._write() as conn:
            conn.execute(
                f"UPDATE executions SET lease_expires_at = ? WHERE lease_owner = ? "
                f"AND status = 'RUNNING' AND id IN ({marks})",
                (now_ms + lease_ms, owner, *execution_ids),
            )

    def release_execution(self, lease: Lease, now_ms: int) -> None:
        with self._write() as conn:
            conn.execute(
                "UPDATE executions SET status = 'PENDING_RESUME', lease_owner = NULL, "
                "lease_expires_at = NULL, updated_at = ? WHERE id = ? AND fence = ? "
                "AND status = 'RUNNING'",
                (now_ms, lease.execution_id, lease.fence),
            )

    def mark_resumable(self, execution_id: str, now_ms: int) -> None:
        with self._write() as conn:
            changed = conn.execute(
                "UPDATE executions SET status = 'PENDING_RESUME', finished_at = NULL, "
                "wake_at = NULL, retries = 0, updated_at = ? WHERE id = ? "
                "AND status IN ('FAILED', 'PENDING_RESUME', 'PENDING_RETRY')",
                (now_ms, execution_id),
            ).rowcount
            if changed:
                return
            exists = conn.execute("SELECT 1 FROM executions WHERE id = ?", (execution_id,))
            if exists.fetchone() is None:
                raise ExecutionNotFound(execution_id)
            raise NotResumable(execution_id)

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
        with self._write() as conn:
            changed = conn.execute(
                "UPDATE executions SET status = ?, finished_at = ?, updated_at = ?, wake_at = ?, "
                "retries = retries + ?, lease_owner = NULL, lease_expires_at = NULL "
                "WHERE id = ? AND fence = ?",
                (
                    status,
                    None if retrying else now_ms,
                    now_ms,
                    wake_at_ms,
                    1 if retrying else 0,
                    lease.execution_id,
                    lease.fence,
                ),
            ).rowcount
            refuse_if_lost(changed, lease)
            write_job_txn(conn, main_job, main_job_recorded)
            conn.execute(
                "UPDATE execution_payloads SET result = ?, error = ? WHERE execution_id = ?",
                (result_json, error_json, lease.execution_id),
            )

    # job executions
    def load_job_rows(self, execution_id: str) -> list[JobRow]:
        found = self._read(
            f"SELECT {rows.JOB_COLUMNS} FROM job_executions j "
            "JOIN job_payloads p ON p.id = j.payload_id "
            "WHERE j.execution_id = ? ORDER BY j.seq",
            (execution_id,),
        )
        return [rows.job_row(row) for row in found]

    def abandon_unfinished_jobs(self, lease: Lease, error_json: str, now_ms: int) -> int:
        with self._write() as conn:
            check_fence(conn, lease)
            conn.execute(
                "UPDATE job_payloads SET error = ? WHERE id IN (SELECT payload_id "
                "FROM job_executions WHERE execution_id = ? AND status IN ('RUNNING', 'SUSPEND'))",
                (error_json, lease.execution_id),
            )
            return conn.execute(
                "UPDATE job_executions SET status = 'FAILED', finished_at = ? "
                "WHERE execution_id = ? AND status IN ('RUNNING', 'SUSPEND')",
                (now_ms, lease.execution_id),
            ).rowcount

    def record_job_start(self, lease: Lease, row: JobRow) -> None:
        with self._write() as conn:
            write_job_txn(conn, row, False, lease)

    def record_job_result(self, lease: Lease, row: JobRow, *, started_recorded: bool) -> None:
        with self._write() as conn:
            write_job_txn(conn, row, started_recorded, lease)

    def record_job_result_txn(
        self, connection: Any, lease: Lease, row: JobRow, *, started_recorded: bool
    ) -> None:
        write_job_txn(connection, row, started_recorded, lease)

    # waits, cancel, schedules
    def load_waits(self, execution_id: str) -> list[WaitRow]:
        found = self._read(
            f"SELECT {rows.WAIT_COLUMNS} FROM waits WHERE execution_id = ?", (execution_id,)
        )
        return [rows.wait_row(row) for row in found]

    def record_wait(self, lease: Lease, wait: WaitRow) -> None:
        with self._write() as conn:
            check_fence(conn, lease)
            conn.execute(
                f"INSERT INTO waits ({rows.WAIT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    wait.execution_id,
                    wait.call_path,
                    wait.kind,
                    wait.key,
                    wait.payload_json,
                    wait.result_json,
                    wait.wake_at_ms,
                    wait.created_at_ms,
                    wait.resolved_at_ms,
                ),
            )

    def park_execution(self, lease: Lease, wake_at_ms: int | None, now_ms: int) -> None:
        with self._write() as conn:
            changed = conn.execute(
                "UPDATE executions SET status = 'WAITING', wake_at = ?, updated_at = ?, "
                "lease_owner = NULL, lease_expires_at = NULL WHERE id = ? AND fence = ?",
                (wake_at_ms, now_ms, lease.execution_id, lease.fence),
            ).rowcount
            refuse_if_lost(changed, lease)

    def resolve_wait(self, execution_id: str, key: str, result_json: str, now_ms: int) -> None:
        with self._write() as conn:
            found = conn.execute(
                "SELECT status FROM executions WHERE id = ?", (execution_id,)
            ).fetchone()
            if found is None:
                raise ExecutionNotFound(execution_id)
            waits = conn.execute(
                "SELECT resolved_at FROM waits WHERE execution_id = ? AND kind = 'wait_point' "
                "AND wait_key = ?",
                (execution_id, key),
            ).fetchall()
            check_resolvable(execution_id, key, found[0], [row[0] for row in waits])
            conn.execute(
                "UPDATE waits SET result = ?, resolved_at = ? WHERE execution_id = ? "
                "AND kind = 'wait_point' AND wait_key = ? AND resolved_at IS NULL",
                (result_json, now_ms, execution_id, key),
            )
            conn.execute(
                "UPDATE executions SET status = 'PENDING_RESUME', wake_at = NULL, updated_at = ? "
                "WHERE id = ? AND status = 'WAITING'",
                (now_ms, execution_id),
            )

    def request_cancel(self, execution_id: str, now_ms: int) -> str:
        with self._write() as conn:
            found = conn.execute(
                "SELECT status, lease_expires_at FROM executions WHERE id = ?", (execution_id,)
            ).fetchone()
            if found is None:
                raise ExecutionNotFound(execution_id)
            status = cancel_outcome(execution_id, found[0], found[1], now_ms)
            if status == "CANCELED":
                conn.execute(
                    "UPDATE executions SET status = 'CANCELED', finished_at = ?, updated_at = ?, "
                    "wake_at = NULL, lease_owner = NULL, lease_expires_at = NULL WHERE id = ?",
                    (now_ms, now_ms, execution_id),
                )
            else:
                conn.execute(
                    "UPDATE executions SET cancel_requested = 1, updated_at = ? WHERE id = ?",
                    (now_ms, execution_id),
                )
            return status

    def cancel_requested(self, execution_ids: Sequence[str]) -> set[str]:
        if not execution_ids:
            return set()
        marks = ", ".join("?" * len(execution_ids))
        found = self._read(
            f"SELECT id FROM executions WHERE cancel_requested = 1 AND id IN ({marks})",
            list(execution_ids),
        )
        return {row[0] for row in found}

    def schedule_first_seen(self, name: str, now_ms: int) -> int:
        with self._write() as conn:
            conn.execute(
                "INSERT INTO schedules (name, created_at) VALUES (?, ?) "
                "ON CONFLICT (name) DO NOTHING",
                (name, now_ms),
            )
            found = conn.execute("SELECT created_at FROM schedules WHERE name = ?", (name,))
            return int(found.fetchone()[0])

    # workers
    def register_worker(self, worker_id: str, info: str, now_ms: int) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT INTO workers (id, info, started_at, heartbeat_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at",
                (worker_id, info, now_ms, now_ms),
            )

    def remove_worker(self, worker_id: str) -> None:
        with self._write() as conn:
            conn.execute("DELETE FROM workers WHERE id = ?", (worker_id,))

    def live_worker_count(self, now_ms: int, stale_ms: int) -> int:
        found = self._read(
            "SELECT count(*) FROM workers WHERE heartbeat_at > ?", (now_ms - stale_ms,)
        )
        return int(found[0][0])

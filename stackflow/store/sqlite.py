"""The embedded SQLite store: WAL, BEGIN IMMEDIATE writes, fenced leases, datagram wake-ups."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from stackflow.errors import StoreError
from stackflow.records import ExecutionStatus
from stackflow.store.base import ChangeListener, ClaimLimits, Lease, StatusChange
from stackflow.store.datagrams import DatagramChannel
from stackflow.store.decisions import within_limits
from stackflow.store.migrations import migrate_txn
from stackflow.store.queries import RUNNABLE_KINDS, Queries
from stackflow.store.sql_store import SqlConnection, SqlStore

T = TypeVar("T")

BUSY_TIMEOUT_SECONDS = 30.0
WAL_AUTOCHECKPOINT_PAGES = 10_000
"""Commits checkpoint the WAL only past this many pages; the heartbeat does it before."""
SYNCHRONOUS_MODES = ("OFF", "NORMAL", "FULL", "EXTRA")
CLAIM_LOOKAHEAD = 50
"""Candidates read past the claim limit, so that capped workflows do not starve others."""
WAL_RETRY_SECONDS = 0.05
QUERIES = Queries.for_dialect(named=":{}", share_lock="", row_lock="", lease_now=":now")


def _claim_candidates() -> str:
    """(id, workflow name, status, runnable since) of runnable executions in `{scope}`,
    oldest first: the first of each kind, read from its partial index (INDEXED BY: the
    planner never walks the whole history, whatever its statistics)."""
    branches = [
        f"SELECT * FROM (SELECT id, workflow_name, status, {since} AS since FROM executions "
        f"INDEXED BY {index} WHERE {condition.replace('{lease_now}', ':now')} {{scope}} "
        f"ORDER BY {column} LIMIT :lookahead)"
        for index, condition, column, since in RUNNABLE_KINDS
    ]
    return f"SELECT * FROM ({' UNION ALL '.join(branches)}) ORDER BY id LIMIT :lookahead"


CLAIM_CANDIDATES = _claim_candidates()


def sqlite_path(url: str) -> str:
    """The file path of a `sqlite:///relative` or `sqlite:////absolute` URL."""
    if not url.startswith("sqlite:///"):
        raise StoreError(f"not a SQLite URL: {url!r} (expected sqlite:///path/to/state.db)")
    path = url[len("sqlite:///") :]
    if not path:
        raise StoreError(f"SQLite URL {url!r} names no file")
    return path


def _check_file(path: Path) -> None:
    """Make the file's directory; refuse a read-only file before SQLite writes anything
    next to it (its -wal and -shm files)."""
    blocking = next((p for p in path.parents if p.exists() and not p.is_dir()), None)
    if blocking is not None:
        raise StoreError(
            f"cannot open the store {path}: {blocking} is not a directory (it is a file); "
            "set database to a path under a directory"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and not os.access(path, os.R_OK | os.W_OK):
        raise StoreError(
            f"the store {path} is read-only: give this user write access to the file "
            "and its directory, or set database to another file"
        )


class SqliteStore(SqlStore):
    """The Store on one SQLite file, shared safely by threads and processes."""

    backend = "sqlite"
    queries = QUERIES
    claims_whole_database = True
    placeholder = ":{}"
    index_hint = " INDEXED BY {}"

    def __init__(self, url: str, *, synchronous: str = "NORMAL") -> None:
        self.url = url
        self.path = sqlite_path(url)
        self.display = self.path
        mode = synchronous.upper()
        if mode not in SYNCHRONOUS_MODES:
            raise StoreError(f"sqlite synchronous must be one of {', '.join(SYNCHRONOUS_MODES)}")
        self._lock = threading.RLock()
        self._checkpoint_lock = threading.Lock()
        self._checkpointer: sqlite3.Connection | None = None
        try:
            _check_file(Path(self.path))
            self._conn = sqlite3.connect(
                self.path,
                isolation_level=None,
                check_same_thread=False,
                timeout=BUSY_TIMEOUT_SECONDS,
            )
            self._use_wal()
            self._conn.execute(f"PRAGMA synchronous={mode}")
            self._conn.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}")
            self._write(lambda conn: migrate_txn(conn, self))
        except sqlite3.DatabaseError as error:
            raise self._explain(error) from None
        except OSError as error:
            raise StoreError(f"cannot open the store {self.path}: {error.strerror}") from None
        self._channel = DatagramChannel(self.path)

    def _use_wal(self) -> None:
        """Switch to WAL, waiting out another process that holds the file while it does.

        Setting the journal mode needs the database to itself and does not wait on
        the busy timeout, so a second process opening a fresh file retries here.
        """
        deadline = time.monotonic() + BUSY_TIMEOUT_SECONDS
        while True:
            try:
                self._conn.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or time.monotonic() > deadline:
                    raise
                time.sleep(WAL_RETRY_SECONDS)

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
        self._channel.close()
        with self._checkpoint_lock:
            if self._checkpointer is not None:
                self._checkpointer.close()
                self._checkpointer = None

    def maintain(self) -> None:
        """Copy the WAL back into the database without blocking writers (PASSIVE).

        Run by the heartbeat on a connection of its own, so that commits on the hot
        path rarely pay for a checkpoint (and its fsync) themselves.
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

    def free_pages(self) -> tuple[int, int] | None:
        """(Pages on the file's free list, page size): reused by later writes, or given back
        to the file system by VACUUM."""
        pages = self._read("PRAGMA freelist_count")[0][0]
        return int(pages), int(self._read("PRAGMA page_size")[0][0])

    # the migration runner's view
    def tables_txn(self, conn: Any) -> set[str]:
        found = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {row[0] for row in found}

    def execute_script_txn(self, conn: Any, script: str) -> None:
        for statement in _without_comments(script).split(";"):
            if statement.strip():
                conn.execute(statement)

    # plumbing
    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
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

    def _write(self, work: Callable[[SqlConnection], T], *, one_statement: bool = False) -> T:
        with self._transaction() as conn:
            try:
                return work(conn)
            except sqlite3.Error as error:
                raise self._explain(error) from None

    def _read(self, query: str, params: Mapping[str, Any] | None = None) -> list[Any]:
        with self._lock:
            try:
                return self._conn.execute(query, params or {}).fetchall()
            except sqlite3.Error as error:
                raise self._explain(error) from None

    # notifications
    def _announce(self, *changes: StatusChange) -> None:
        self._channel.send(changes)

    def subscribe(self) -> ChangeListener:
        return self._channel.listen()

    # claims
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
        params = {
            "owner": owner,
            "lease_ms": lease_ms,
            "now": now_ms,
            "lookahead": limit + CLAIM_LOOKAHEAD,
        }

        def claim(conn: SqlConnection) -> list[Lease]:
            candidates = self._candidates_txn(conn, params, execution_id, workflow_names)
            if limits.max_running is None and not limits.per_workflow:
                chosen = [row[0] for row in candidates[:limit]]
            else:
                running = dict(conn.execute(self.queries.running_counts, params).fetchall())
                chosen = within_limits([row[:2] for row in candidates], running, limits, limit)
            found = {row[0]: row for row in candidates}
            return [self._claim_one_txn(conn, found[chosen_id], params) for chosen_id in chosen]

        leases = self._write(claim)
        if leases:
            self._announce(
                *(
                    StatusChange(lease.execution_id, lease.workflow_name, ExecutionStatus.RUNNING)
                    for lease in leases
                )
            )
        return leases

    def _candidates_txn(
        self,
        conn: SqlConnection,
        params: dict[str, Any],
        execution_id: str | None,
        workflow_names: Sequence[str],
    ) -> list[Any]:
        """The claim candidates of one execution, or of the named workflows (the caller
        claims them in the same transaction)."""
        scope, extra = "", {}
        if execution_id is not None:
            scope, extra = "AND id = :id", {"id": execution_id}
        if workflow_names:
            marks, extra = self._in_list("name", list(workflow_names))
            scope = f"AND workflow_name IN ({marks})"
        query = CLAIM_CANDIDATES.replace("{scope}", scope)
        return list(conn.execute(query, {**params, **extra}).fetchall())


def _without_comments(script: str) -> str:
    """The script without its `--` comment lines (they may hold semicolons)."""
    return "\n".join(line for line in script.splitlines() if not line.lstrip().startswith("--"))

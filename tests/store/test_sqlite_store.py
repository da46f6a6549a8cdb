"""What is particular to the SQLite store: its file, its pragmas, what it refuses to open."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import TypeVar

import pytest

from stackflow.clock import new_id, now_ms
from stackflow.errors import StoreError
from stackflow.records import ExecutionStatus
from stackflow.store import open_store
from stackflow.store.base import ClaimLimits, NewExecution
from stackflow.store.sqlite import SqliteStore

NOW = 1_700_000_000_000
T = TypeVar("T")


def test_wal_and_synchronous(tmp_path):
    store = SqliteStore(f"sqlite:///{tmp_path / 's.db'}", synchronous="full")
    try:
        assert store._conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert store._conn.execute("PRAGMA synchronous").fetchone()[0] == 2
    finally:
        store.close()


def test_a_relative_url_creates_its_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    open_store("sqlite:///.stackflow/state.db").close()
    assert (tmp_path / ".stackflow" / "state.db").exists()


def test_a_file_that_is_not_a_database_is_refused_untouched(tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("just some notes\n" * 100)
    with pytest.raises(StoreError, match="is not a stackflow store"):
        open_store(f"sqlite:///{path}")
    assert path.read_text() == "just some notes\n" * 100


def test_another_applications_database_is_refused(tmp_path):
    path = tmp_path / "app.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE customers (id INTEGER)")
    with pytest.raises(StoreError, match="is not a stackflow store"):
        open_store(f"sqlite:///{path}")
    with sqlite3.connect(path) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    assert tables == ["customers"]


def test_a_store_from_a_newer_stackflow_is_refused(tmp_path):
    url = f"sqlite:///{tmp_path / 's.db'}"
    open_store(url).close()
    with sqlite3.connect(tmp_path / "s.db") as conn:
        conn.execute("UPDATE stackflow_meta SET value = '999' WHERE key = 'schema_version'")
    with pytest.raises(StoreError, match="newer stackflow"):
        open_store(url)


def test_a_read_only_store_is_reported(tmp_path, make_read_only):
    url = f"sqlite:///{tmp_path / 'store' / 's.db'}"
    open_store(url).close()
    make_read_only(tmp_path / "store")
    with pytest.raises(StoreError, match="read-only"):
        store = open_store(url)
        store.register_worker("w", "i", 1)


def test_unknown_url_scheme(tmp_path):
    with pytest.raises(StoreError, match="unsupported database URL scheme 'mysql'"):
        open_store("mysql://localhost/db")


HISTORY = 3_000


def _store_with_history(path, finished: int) -> tuple[SqliteStore, list[str]]:
    """A store holding `finished` finished executions, older than its three pending ones."""
    store = SqliteStore(f"sqlite:///{path}")
    history = [(new_id(),) for _ in range(finished)]
    with store._conn:
        store._conn.executemany(
            "INSERT INTO executions (id, workflow_name, status, created_at, updated_at, arg) "
            f"VALUES (?, 'flow', 'SUCCESS', {NOW}, {NOW}, '{{}}')",
            history,
        )
    pending = [
        store.create_execution(NewExecution(new_id(), "flow", "{}", None, None, NOW))
        for _ in range(3)
    ]
    return store, pending


def _counting_steps(store: SqliteStore, action: Callable[[], T]) -> tuple[T, int]:
    """What `action` returns, and how many SQLite VM instructions (in 100s) it ran."""
    steps = 0

    def count() -> int:
        nonlocal steps
        steps += 1
        return 0

    store._conn.set_progress_handler(count, 100)
    try:
        return action(), steps
    finally:
        store._conn.set_progress_handler(None, 0)


def _claim_steps(store: SqliteStore) -> tuple[list[str], int]:
    """What a worker's claim takes, and how many SQLite VM instructions (in 100s) it ran."""
    limits = ClaimLimits(50, {"flow": 20})
    leases, steps = _counting_steps(
        store, lambda: store.claim_runnable("w", 10_000, now_ms(), 10, ["flow"], limits)
    )
    return [lease.execution_id for lease in leases], steps


def test_a_claim_reads_the_runnable_executions_not_the_history(tmp_path):
    """A claim's work does not grow with the finished executions a store keeps."""
    fresh, fresh_pending = _store_with_history(tmp_path / "fresh.db", 0)
    old, old_pending = _store_with_history(tmp_path / "old.db", HISTORY)
    try:
        claimed_fresh, fresh_steps = _claim_steps(fresh)
        claimed_old, old_steps = _claim_steps(old)
    finally:
        fresh.close()
        old.close()
    assert (claimed_fresh, claimed_old) == (fresh_pending, old_pending)
    assert old_steps <= fresh_steps + 5  # one history row costs ~10 instructions to read


def _list_steps(store: SqliteStore, statuses: list[str]) -> tuple[list[str], int]:
    """The ids a list by status gives, and how many SQLite VM instructions (in 100s) it ran."""
    wanted = [ExecutionStatus(s) for s in statuses]
    found, steps = _counting_steps(store, lambda: store.list_executions(statuses=wanted, limit=50))
    return [e.id for e in found], steps


def test_a_list_by_status_reads_its_index_not_the_history(tmp_path):
    """`-s FAILED` or the dashboard's live view on a big store: the work does not grow with
    the finished executions the store keeps."""
    fresh, fresh_pending = _store_with_history(tmp_path / "fresh.db", 0)
    old, old_pending = _store_with_history(tmp_path / "old.db", HISTORY)
    try:
        for statuses in (["FAILED"], ["PENDING", "RUNNING", "WAITING", "PENDING_RETRY"]):
            listed_fresh, fresh_steps = _list_steps(fresh, statuses)
            listed_old, old_steps = _list_steps(old, statuses)
            pending = statuses != ["FAILED"]  # the three PENDING ones, newest first
            assert listed_fresh == (fresh_pending[::-1] if pending else [])
            assert listed_old == (old_pending[::-1] if pending else [])
            assert old_steps <= fresh_steps + 5, statuses
    finally:
        fresh.close()
        old.close()

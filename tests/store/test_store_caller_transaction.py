"""Executions created inside the caller's transaction: they commit with it or not at all, and
are announced only when the caller says the commit is done (both backends)."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from store_helpers import NOW, new_execution

from stackflow.clock import new_id
from stackflow.records import ExecutionStatus
from stackflow.store.base import ChangeListener, NewExecution, StatusChange, Store
from stackflow.store.sqlite import sqlite_path


@contextmanager
def caller_transaction(url: str, *, commit: bool) -> Iterator[Any]:
    """A DBAPI connection of the caller's own, in an open transaction on the store's database."""
    if url.startswith("sqlite:"):
        conn: Any = sqlite3.connect(sqlite_path(url), isolation_level=None, timeout=30)
        conn.execute("BEGIN IMMEDIATE")
    else:
        import psycopg

        conn = psycopg.connect(url)
    try:
        yield conn
        conn.execute("COMMIT" if commit else "ROLLBACK")
    finally:
        conn.close()


def _new(depth: int = 1) -> NewExecution:
    return NewExecution(
        new_id(), "flow", json.dumps({"n": 1}), None, None, NOW, trigger_depth=depth
    )


def _changes(listener: ChangeListener, seconds: float) -> list[StatusChange]:
    received: list[StatusChange] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        received.extend(listener.wait(0.1) or [])
    return received


def test_an_execution_created_in_a_committed_transaction_exists_and_is_announced(
    store_url: str, store: Store
) -> None:
    listener = store.subscribe()
    try:
        listener.wait(0.05)
        new = _new()
        with caller_transaction(store_url, commit=True) as conn:
            change = store.create_execution_txn(conn, new)
            assert store.find_execution(new.id) is None  # not visible before the commit
            assert _changes(listener, 0.3) == []  # nor announced
        store.announce_committed([change])
        received = _changes(listener, 1.0)
    finally:
        listener.close()
    assert change == StatusChange(new.id, "flow", ExecutionStatus.PENDING)
    assert [c.execution_id for c in received] == [new.id]  # once (PostgreSQL: by its trigger)
    found = store.find_execution(new.id)
    assert found is not None and (found.status, found.arg) == ("PENDING", {"n": 1})


def test_an_execution_created_in_a_rolled_back_transaction_never_exists(
    store_url: str, store: Store
) -> None:
    new = _new()
    with caller_transaction(store_url, commit=False) as conn:
        store.create_execution_txn(conn, new)
    assert store.find_execution(new.id) is None
    assert store.list_executions() == []


def test_trigger_depth_is_kept_and_read_in_the_callers_transaction(
    store_url: str, store: Store
) -> None:
    started_otherwise = new_execution(store)
    deep = _new(depth=3)
    with caller_transaction(store_url, commit=True) as conn:
        store.create_execution_txn(conn, deep)
        assert store.trigger_depth_txn(conn, deep.id) == 3
        assert store.trigger_depth_txn(conn, started_otherwise) == 0
        assert store.trigger_depth_txn(conn, "missing") == 0


def test_a_duplicate_id_is_refused(store_url: str, store: Store) -> None:
    taken = new_execution(store)
    new = NewExecution(taken, "flow", "{}", None, None, NOW)
    with (
        pytest.raises(Exception, match="could not be created"),
        caller_transaction(store_url, commit=False) as conn,
    ):
        store.create_execution_txn(conn, new)


def test_a_job_result_written_in_the_callers_transaction_is_fenced(
    store_url: str, store: Store
) -> None:
    from store_helpers import claim_at, job_row

    from stackflow.errors import LeaseLost

    lease = claim_at(store, new_execution(store))
    done = job_row(lease, 1, "000000")
    with caller_transaction(store_url, commit=False) as conn:
        store.check_lease_txn(conn, lease)
        store.record_job_result_txn(conn, lease, done, started_recorded=False)
    assert store.load_job_rows(lease.execution_id) == []  # rolled back with the caller's
    with caller_transaction(store_url, commit=True) as conn:
        store.check_lease_txn(conn, lease)
        store.record_job_result_txn(conn, lease, done, started_recorded=False)
    assert [row.result_json for row in store.load_job_rows(lease.execution_id)] == ['{"ok":true}']
    store.release_execution(lease, NOW + 1)
    claim_at(store, lease.execution_id, "w2", NOW + 2)
    with caller_transaction(store_url, commit=False) as conn, pytest.raises(LeaseLost):
        store.check_lease_txn(conn, lease)

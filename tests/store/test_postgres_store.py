"""What only the PostgreSQL store does: the extra, migrations under a lock, NOTIFY, reconnects."""

from __future__ import annotations

import json
import sys
import threading

import psycopg
import pytest

from stackflow.clock import new_id
from stackflow.errors import StoreError
from stackflow.records import ExecutionStatus
from stackflow.store import open_store
from stackflow.store.base import NewExecution, Store
from stackflow.store.migrations import META_TABLE, latest_version, migration_scripts
from stackflow.store.postgres import CLAIM, display_url

NOW = 1_700_000_000_000
NOT_FINAL = [status for status in ExecutionStatus if not status.is_final]


def _new(store: Store, workflow: str = "flow") -> str:
    return store.create_execution(NewExecution(new_id(), workflow, "{}", None, None, NOW))


def test_a_missing_postgres_extra_is_named(monkeypatch):
    monkeypatch.delitem(sys.modules, "stackflow.store.postgres", raising=False)
    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(StoreError, match=r"pip install 'stackflow\[postgres\]'"):
        open_store("postgresql://nobody@127.0.0.1:1/none")


def test_display_url_hides_the_password():
    assert display_url("postgresql://u:secret@h:5/db") == "postgresql://u@h:5/db"
    assert display_url("postgres://h/db") == "postgres://h/db"


def test_an_unreachable_server_is_one_clear_error():
    with pytest.raises(StoreError, match="cannot connect to PostgreSQL at postgresql://u@"):
        open_store("postgresql://u:pw@127.0.0.1:1/none?connect_timeout=2")


@pytest.mark.postgres
def test_many_processes_migrating_at_once_do_not_race(postgres_url):
    errors: list[BaseException] = []

    def open_close() -> None:
        try:
            open_store(postgres_url).close()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=open_close) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with psycopg.connect(postgres_url) as conn:
        found = conn.execute("SELECT value FROM stackflow_meta").fetchall()
    assert len(found) == 1


@pytest.mark.postgres
def test_a_newer_schema_is_refused(postgres_url):
    open_store(postgres_url).close()
    with psycopg.connect(postgres_url) as conn:
        conn.execute("UPDATE stackflow_meta SET value = '999' WHERE key = 'schema_version'")
    with pytest.raises(StoreError, match=r"newer stackflow \(schema version 999"):
        open_store(postgres_url)


@pytest.mark.postgres
def test_a_database_with_clashing_tables_is_refused(postgres_url):
    with psycopg.connect(postgres_url) as conn:
        conn.execute("CREATE TABLE executions (id int)")
    with pytest.raises(
        StoreError, match=r"not a stackflow store \(it holds tables named executions"
    ):
        open_store(postgres_url)


@pytest.mark.postgres
def test_a_listener_whose_connection_is_dropped_says_so_and_listens_again(postgres_url):
    store = open_store(postgres_url)
    listener = store.subscribe()
    try:
        assert listener.wait(0.05) == []
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND query LIKE 'LISTEN%'"
            )
        assert listener.wait(1.0) is None  # changes may have been missed: re-read
        seen = []
        for _ in range(20):
            found = listener.wait(0.2)
            if found == [] and not seen:
                seen.append(_new(store))
            elif found:
                break
        assert found and found[0].execution_id == seen[0]
    finally:
        listener.close()
        store.close()


@pytest.mark.postgres
def test_operations_survive_the_server_dropping_every_connection(postgres_url):
    store = open_store(postgres_url)
    try:
        first = _new(store)
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        second = _new(store)
        assert [e.id for e in store.list_executions()] == [second, first]
    finally:
        store.close()


@pytest.mark.postgres
def test_a_retried_job_insert_is_recognised_not_duplicated(postgres_url):
    from stackflow.clock import job_execution_id
    from stackflow.store.base import JobRow

    store = open_store(postgres_url)
    try:
        lease = store.claim_execution(_new(store), "w1", 10_000, NOW)
        assert lease is not None
        job_id = job_execution_id(lease.execution_id, 1)
        row = JobRow(lease.execution_id, "000000", "j", "m/j", "SUCCESS", 1, None, NOW)
        row.seq, row.result_json = 1, json.dumps({"ok": 1})
        store.record_job_result(lease, row, started_recorded=False)
        store.record_job_result(lease, row, started_recorded=False)  # as after a lost COMMIT ack
        [stored] = store.load_job_rows(lease.execution_id)
        assert (stored.id, stored.result_json) == (job_id, '{"ok": 1}')
    finally:
        store.close()


def _store_with_history(url: str) -> list[str]:
    """A store of 3,000 finished executions, then three pending ones (returned, oldest
    first)."""
    store = open_store(url)
    try:
        with psycopg.connect(url) as conn, conn.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO executions (id, workflow_name, status, created_at, updated_at, "
                f"arg) VALUES (%s, 'flow', 'SUCCESS', {NOW}, {NOW}, '{{}}')",
                [(new_id(),) for _ in range(3_000)],
            )
        return [_new(store) for _ in range(3)]
    finally:
        store.close()


def _run_counting_reads(url: str, query: str, params: dict[str, object]) -> tuple[list[str], int]:
    """The ids `query` returns, and how many rows of executions its transaction read (the
    server's count for the transaction itself); rolled back."""
    with psycopg.connect(url) as conn:
        ids = [str(row[0]) for row in conn.execute(query, params)]
        read = conn.execute(
            "SELECT seq_tup_read + COALESCE(idx_tup_fetch, 0) FROM pg_stat_xact_user_tables "
            "WHERE relname = 'executions'"
        ).fetchone()
        conn.rollback()
    assert read is not None
    return ids, int(read[0])


@pytest.mark.postgres
def test_a_claim_reads_the_runnable_executions_not_the_history(postgres_url):
    """With 3,000 finished executions older than the pending ones, a worker's claim reads a
    handful of rows."""
    pending = _store_with_history(postgres_url)
    params: dict[str, object] = {
        "owner": "w",
        "lease_ms": 10_000,
        "now": NOW,
        "limit": 10,
        "names": ["flow"],
        "id": None,
        "max_running": 50,
        "caps": json.dumps({"flow": 20}),
    }
    claimed, read = _run_counting_reads(postgres_url, CLAIM, params)
    assert sorted(claimed) == sorted(pending)
    assert read < 50


@pytest.mark.postgres
def test_a_version_3_store_is_upgraded_in_place(postgres_url):
    """Opening a store of schema version 3 replaces its claim function and keeps its data."""
    with psycopg.connect(postgres_url) as conn:
        for version, script in migration_scripts("postgres"):
            if version <= 3:
                conn.execute(script.encode("utf-8"))
        conn.execute(META_TABLE)
        conn.execute("INSERT INTO stackflow_meta (key, value) VALUES ('schema_version', '3')")
        execution_id = new_id()
        conn.execute(
            "INSERT INTO executions (id, workflow_name, status, created_at, updated_at, arg) "
            f"VALUES (%s, 'flow', 'PENDING', {NOW}, {NOW}, '{{}}')",
            (execution_id,),
        )
    store = open_store(postgres_url)
    try:
        claimed = store.claim_runnable("w", 10_000, NOW, 5, ["flow"])
    finally:
        store.close()
    assert [lease.execution_id for lease in claimed] == [execution_id]
    with psycopg.connect(postgres_url) as conn:
        version = conn.execute("SELECT value FROM stackflow_meta").fetchone()
        claim = conn.execute("SELECT prosrc FROM pg_proc WHERE proname = 'stackflow_claim'")
        sources = [row[0] for row in claim]
    assert version == (str(latest_version("postgres")),)
    assert len(sources) == 1 and "UNION ALL" in sources[0]  # version 4's claim


@pytest.mark.postgres
def test_a_list_by_status_reads_its_index_not_the_history(postgres_url):
    """With 3,000 finished executions, listing the failed or the active ones reads a handful
    of rows."""
    pending = _store_with_history(postgres_url)
    store = open_store(postgres_url)
    try:
        failed = store.list_query(None, [ExecutionStatus.FAILED], 50, None)
        active = store.list_query(None, NOT_FINAL, 50, None)
    finally:
        store.close()
    assert _run_counting_reads(postgres_url, *failed)[0] == []
    listed, read = _run_counting_reads(postgres_url, *active)
    assert listed == pending[::-1]
    assert read < 50
    assert _run_counting_reads(postgres_url, *failed)[1] < 50

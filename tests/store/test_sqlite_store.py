"""What is particular to the SQLite store: its file, its pragmas, what it refuses to open."""

from __future__ import annotations

import sqlite3

import pytest

from stackflow.errors import StoreError
from stackflow.store import open_store
from stackflow.store.sqlite import SqliteStore


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

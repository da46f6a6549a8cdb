"""SQLAlchemy engines for namespace databases: one per URL, SQLite in WAL with a busy timeout."""

from __future__ import annotations

import threading
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from stackflow.tailordb.json_text import json_text
from stackflow.tailordb.stores import close_stores

BUSY_TIMEOUT_SECONDS = 30.0
IMMEDIATE_OPTION = "stackflow_begin_immediate"

_engines: dict[str, Engine] = {}
_lock = threading.Lock()


def sqlalchemy_url(url: str) -> str:
    """The SQLAlchemy URL of a project database URL (psycopg 3 for PostgreSQL)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def dialect_name(url: str) -> str:
    """`sqlite` or `postgresql`, from a project database URL."""
    return "sqlite" if url.startswith("sqlite:") else "postgresql"


def engine_for(url: str) -> Engine:
    """The shared engine of `url`, created on first use."""
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            engine = _create(url)
            _engines[url] = engine
        return engine


def dispose_engines() -> None:
    """Close every pooled connection (tests and process shutdown)."""
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()
    close_stores()


def _create(url: str) -> Engine:
    if dialect_name(url) != "sqlite":
        return sa.create_engine(sqlalchemy_url(url), json_serializer=json_text)
    engine = sa.create_engine(
        url,
        connect_args={"timeout": BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
        json_serializer=json_text,
    )
    event.listen(engine, "connect", _sqlite_connect)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_connect(dbapi_connection: Any, record: Any) -> None:
    # Let SQLAlchemy (not the sqlite3 module) decide when transactions begin.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_SECONDS * 1000)}")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    # A transaction that will write takes the write lock at once (BEGIN IMMEDIATE):
    # it then waits on the busy timeout instead of failing when upgrading later.
    immediate = conn.get_execution_options().get(IMMEDIATE_OPTION, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

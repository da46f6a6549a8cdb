"""Where the soak's store lives: a SQLite file, or a fresh PostgreSQL database."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks.pg import fresh_database

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


@contextlib.contextmanager
def store_url(backend: str, root: Path, postgres_url: str | None) -> Iterator[str]:
    """The store URL for `backend`; PostgreSQL gets a fresh database, dropped afterwards.

    Without `postgres_url` a throwaway cluster is started with scripts/postgres-up.
    """
    if backend == "sqlite":
        yield f"sqlite:///{(root / 'state.db').as_posix()}"
        return
    with contextlib.ExitStack() as stack:
        server = postgres_url or stack.enter_context(throwaway_cluster())
        url, _ = stack.enter_context(fresh_database(server))
        yield url


@contextlib.contextmanager
def throwaway_cluster() -> Iterator[str]:
    """Start a PostgreSQL cluster of its own (scripts/postgres-up); stop it afterwards."""
    handle, state = tempfile.mkstemp(prefix="soak-postgres-", suffix=".state")
    os.close(handle)
    env = {**os.environ, "STACKFLOW_POSTGRES_STATE": state}
    Path(state).unlink()
    try:
        done = subprocess.run(
            [str(SCRIPTS / "postgres-up")], env=env, capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"scripts/postgres-up failed: {done.stderr.strip()}")
        yield done.stdout.strip()
    finally:
        subprocess.run([str(SCRIPTS / "postgres-down")], env=env, capture_output=True, check=False)
        Path(state).unlink(missing_ok=True)


def integrity(url: str) -> str | None:
    """`PRAGMA integrity_check` of a SQLite store ("ok" when sound); None on PostgreSQL."""
    if not url.startswith("sqlite:///"):
        return None
    with contextlib.closing(sqlite3.connect(url[len("sqlite:///") :])) as conn:
        rows = conn.execute("PRAGMA integrity_check").fetchall()
    return "; ".join(str(row[0]) for row in rows)


def booking_rows(url: str) -> list[tuple[str, str]]:
    """(execution, label) of every row the transactional jobs wrote."""
    rows = read_rows(url, 'SELECT "execution", "label" FROM "Booking"')
    return [(str(e), str(label)) for e, label in rows]


def read_rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    """The rows of one query on the store at `url`, on a connection of its own."""
    if url.startswith("sqlite:///"):
        with contextlib.closing(sqlite3.connect(url[len("sqlite:///") :])) as conn:
            return conn.execute(sql).fetchall()
    import psycopg

    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchall()

"""A fresh PostgreSQL database per run, created next to the one the URL names."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit


def _with_dbname(url: str, dbname: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + dbname))


@contextlib.contextmanager
def fresh_database(url: str) -> Iterator[tuple[str, str]]:
    """Yield (url, note) of a new empty database, dropped afterwards.

    Without the right to create databases, the given database itself is used
    and the note says so.
    """
    import psycopg
    from psycopg import sql

    dbname = f"stackflow_bench_{uuid.uuid4().hex[:12]}"
    name = sql.Identifier(dbname)
    try:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(name))
    except psycopg.Error as exc:
        yield url, f"shared database (CREATE DATABASE failed: {type(exc).__name__})"
        return
    try:
        yield _with_dbname(url, dbname), "fresh database"
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))


@contextlib.contextmanager
def fresh_store(
    directory: Path, postgres_url: str | None, filename: str
) -> Iterator[tuple[str, str]]:
    """Yield (url, note) of a fresh store: a new SQLite file in `directory`, or a new database."""
    if postgres_url is None:
        yield f"sqlite:///{directory / filename}", "fresh SQLite file"
    else:
        with fresh_database(postgres_url) as found:
            yield found

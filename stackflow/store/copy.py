"""Copying a store's history to another store (e.g. SQLite → PostgreSQL), rows as they are.

Both stores are opened (so migrated to this stackflow's schema) first; then every
execution, job execution, payload, wait, schedule and registry row is copied with
its ids, statuses and timestamps, in one destination transaction. Live worker
rows are not copied: workers register with the store they run against.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from stackflow.errors import StoreError
from stackflow.store import open_store
from stackflow.store.sqlite import sqlite_path

BATCH_ROWS = 1000

# (table, key columns giving a stable order)
COPIED_TABLES: tuple[tuple[str, str], ...] = (
    ("workflows", "name"),
    ("schedules", "name"),
    ("executions", "created_at, id"),
    ("job_executions", "execution_id, seq"),
    ("waits", "execution_id, call_path"),
)
CHECKED_TABLES = ("executions", "workflows")
META_QUERY = "SELECT 1 FROM {catalog} WHERE type = 'table' AND name = 'stackflow_meta'"


@dataclass
class CopyReport:
    """How many rows of each table were copied."""

    source: str
    destination: str
    rows: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        """One line: `<n> executions, <n> job executions, <n> workflows`."""
        return (
            f"{self.rows.get('executions', 0)} executions, "
            f"{self.rows.get('job_executions', 0)} job executions, "
            f"{self.rows.get('workflows', 0)} workflows"
        )


class DestinationNotEmpty(StoreError):
    """The destination store already holds executions or workflows."""


class _Side(Protocol):
    """Raw row access to one store's tables, for copying."""

    display: str

    def columns(self, table: str) -> list[str]: ...

    def count(self, table: str) -> int: ...

    def rows(self, table: str, columns: Sequence[str], order: str) -> Iterator[list[Any]]: ...

    def clear(self, table: str) -> None: ...

    def insert(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None: ...

    def commit(self) -> None: ...

    def close(self) -> None: ...


class _SqliteSide:
    def __init__(self, url: str) -> None:
        self.display = url
        self._conn = sqlite3.connect(sqlite_path(url), isolation_level=None)
        self._conn.execute("BEGIN IMMEDIATE")

    def columns(self, table: str) -> list[str]:
        return [row[1] for row in self._conn.execute(f"PRAGMA table_info({table})")]

    def count(self, table: str) -> int:
        return int(self._conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])

    def rows(self, table: str, columns: Sequence[str], order: str) -> Iterator[list[Any]]:
        cursor = self._conn.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY {order}")
        while batch := cursor.fetchmany(BATCH_ROWS):
            yield batch

    def clear(self, table: str) -> None:
        self._conn.execute(f"DELETE FROM {table}")

    def insert(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        marks = ", ".join("?" * len(columns))
        self._conn.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)

    def commit(self) -> None:
        self._conn.execute("COMMIT")

    def close(self) -> None:
        if self._conn.in_transaction:
            self._conn.execute("ROLLBACK")
        self._conn.close()


class _PostgresSide:
    def __init__(self, url: str) -> None:
        import psycopg

        from stackflow.store.postgres import display_url, read_uuids_as_text

        self.display = display_url(url)
        self._conn = psycopg.connect(url)
        read_uuids_as_text(self._conn)

    def columns(self, table: str) -> list[str]:
        found = self._conn.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = %s ORDER BY ordinal_position",
            (table,),
        )
        return [row[0] for row in found]

    def count(self, table: str) -> int:
        found = self._conn.execute(f"SELECT count(*) FROM {table}").fetchone()
        return int(found[0]) if found else 0

    def rows(self, table: str, columns: Sequence[str], order: str) -> Iterator[list[Any]]:
        with self._conn.cursor(name=f"copy_{table}") as cursor:
            cursor.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY {order}")
            while batch := cursor.fetchmany(BATCH_ROWS):
                yield [list(row) for row in batch]

    def clear(self, table: str) -> None:
        self._conn.execute(f"DELETE FROM {table}")

    def insert(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        with self._conn.cursor() as cursor:
            statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
            with cursor.copy(statement) as copy:
                for row in rows:
                    copy.write_row(row)

    def commit(self) -> None:
        self._conn.commit()

    def close(self) -> None:
        self._conn.close()


def _require_source_store(url: str) -> None:
    """Refuse a source that does not exist or holds no stackflow store (nothing is created)."""
    if url.startswith("sqlite:"):
        path = Path(sqlite_path(url))
        if not path.is_file():
            raise StoreError(f"the source store {path} does not exist: check the path")
        with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as conn:
            try:
                found = conn.execute(META_QUERY.format(catalog="sqlite_master")).fetchone()
            except sqlite3.DatabaseError:
                found = None
        shown = str(path)
    else:
        import psycopg

        from stackflow.store.postgres import display_url

        shown = display_url(url)
        try:
            with psycopg.connect(url, autocommit=True) as conn:
                found = conn.execute(
                    "SELECT 1 FROM pg_tables WHERE schemaname = current_schema() "
                    "AND tablename = 'stackflow_meta'"
                ).fetchone()
        except psycopg.Error as error:
            raise StoreError(f"cannot connect to the source store {shown}: {error}") from None
    if found is None:
        raise StoreError(f"the source {shown} is not a stackflow store: check the URL")


def _same_store(first: str, second: str) -> bool:
    if first.startswith("sqlite:") and second.startswith("sqlite:"):
        return Path(sqlite_path(first)).resolve() == Path(sqlite_path(second)).resolve()
    return first == second


def _open_side(url: str) -> _Side:
    open_store(url).close()  # create or migrate the schema; refuses a newer one
    if url.startswith("sqlite:"):
        return _SqliteSide(url)
    return _PostgresSide(url)


def copy_store(source_url: str, destination_url: str, *, force: bool = False) -> CopyReport:
    """Copy every row of the store at `source_url` into the store at `destination_url`.

    The destination must hold no executions or workflows, unless `force`, which
    first deletes everything in it. The copy is one transaction: on any error the
    destination is left as it was.
    """
    if _same_store(source_url, destination_url):
        raise StoreError("the source and destination stores are the same")
    _require_source_store(source_url)
    source = _open_side(source_url)
    try:
        destination = _open_side(destination_url)
        try:
            report = _copy(source, destination, force)
            destination.commit()
            return report
        finally:
            destination.close()
    finally:
        source.close()


def _copy(source: _Side, destination: _Side, force: bool) -> CopyReport:
    report = CopyReport(source.display, destination.display)
    held = {table: destination.count(table) for table in CHECKED_TABLES}
    if any(held.values()) and not force:
        raise DestinationNotEmpty(
            f"the destination {destination.display} already holds "
            f"{held['executions']} executions and {held['workflows']} workflows: "
            "copy into an empty store, or pass --force to delete its contents first"
        )
    for table, _ in reversed(COPIED_TABLES):
        destination.clear(table)
    for table, order in COPIED_TABLES:
        report.rows[table] = _copy_table(source, destination, table, order)
    return report


def _copy_table(source: _Side, destination: _Side, table: str, order: str) -> int:
    wanted = set(destination.columns(table))
    columns = [name for name in source.columns(table) if name in wanted]
    copied = 0
    for batch in source.rows(table, columns, order):
        destination.insert(table, columns, batch)
        copied += len(batch)
    return copied

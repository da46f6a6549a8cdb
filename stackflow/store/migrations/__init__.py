"""Versioned schema migrations, one folder per backend, applied by one runner.

The runner works inside a transaction that the store holds exclusively (SQLite:
BEGIN IMMEDIATE; PostgreSQL: an advisory lock), so the version it reads cannot
change before the migrations it applies commit: any number of processes may
open a fresh store at once.
"""

from __future__ import annotations

from importlib import resources
from typing import Any, Protocol

from stackflow.errors import StoreError

STORE_TABLES = ("executions", "job_executions", "workflows", "workers", "waits", "schedules")
"""Tables a stackflow store holds (a database holding one of them without stackflow_meta
belongs to something else)."""

META_TABLE = "CREATE TABLE IF NOT EXISTS stackflow_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"


class MigrationTarget(Protocol):
    """The store being migrated, as the runner sees it."""

    backend: str
    display: str
    placeholder: str
    claims_whole_database: bool
    """SQLite: a file holding tables but no stackflow_meta belongs to something else.
    PostgreSQL: only tables named like the store's clash (a database has many users)."""

    def tables_txn(self, conn: Any) -> set[str]:
        """The names of the tables in the store's database (or schema)."""
        ...

    def execute_script_txn(self, conn: Any, script: str) -> None:
        """Run a migration script inside the open transaction."""
        ...


def migration_scripts(backend: str) -> list[tuple[int, str]]:
    """(version, SQL text) of every migration of `backend`, oldest first."""
    folder = resources.files(__package__).joinpath(backend)
    scripts = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            version = int(entry.name.split("_", 1)[0])
            scripts.append((version, entry.read_text(encoding="utf-8")))
    return sorted(scripts)


def latest_version(backend: str) -> int:
    """The schema version this stackflow writes."""
    return migration_scripts(backend)[-1][0]


def migrate_txn(conn: Any, target: MigrationTarget) -> None:
    """Bring the store to the latest schema inside the caller's exclusive transaction."""
    version = _schema_version_txn(conn, target)
    latest = latest_version(target.backend)
    if version > latest:
        raise StoreError(
            f"{target.display} was written by a newer stackflow (schema version {version}, "
            f"this one knows up to {latest}): upgrade stackflow to use it"
        )
    pending = [(v, script) for v, script in migration_scripts(target.backend) if v > version]
    if not pending:
        return
    conn.execute(META_TABLE)
    for _, script in pending:
        target.execute_script_txn(conn, script)
    mark = target.placeholder.format("version")
    conn.execute(
        "INSERT INTO stackflow_meta (key, value) VALUES ('schema_version', "
        f"{mark}) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        {"version": str(pending[-1][0])},
    )


def _schema_version_txn(conn: Any, target: MigrationTarget) -> int:
    tables = target.tables_txn(conn)
    if "stackflow_meta" not in tables:
        if target.claims_whole_database and tables:
            raise StoreError(
                f"{target.display} is not a stackflow store (it holds other tables); "
                "set database to another file"
            )
        clashing = sorted(tables.intersection(STORE_TABLES))
        if clashing:
            raise StoreError(
                f"{target.display} is not a stackflow store (it holds tables named "
                f"{', '.join(clashing)}); use another database or schema"
            )
        return 0
    found = conn.execute("SELECT value FROM stackflow_meta WHERE key = 'schema_version'")
    row = found.fetchone()
    return int(row[0]) if row else 0

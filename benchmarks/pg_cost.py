"""What the PostgreSQL server spends on a measured span: write transactions, WAL bytes, WAL records.

The probe uses its own connection. Write transactions are the `txid_current()`
delta (every transaction that writes gets a transaction id; the probe's own two
calls are subtracted). WAL bytes are the delta of `pg_current_wal_insert_lsn()`.
WAL records are counted exactly between the two LSNs with `pg_walinspect`
(shipped with PostgreSQL 15); where that extension cannot be created, the
`pg_stat_wal` delta is used instead, which lags (backends report their WAL
statistics at most once a second) and so is approximate.

The counters are server-wide: everything the server wrote in the span counts,
the engine's idle heartbeats and polls included, and so would anything else
running on the same server.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any

FLUSH_WAIT_SECONDS = 5.0
SETTINGS = ("server_version", "fsync", "synchronous_commit", "full_page_writes")


def server_settings(url: str) -> dict[str, str]:
    """The server's version and durability settings, read back with SHOW."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        return {name: str(_one(conn, f"SHOW {name}")) for name in SETTINGS}


def _one(conn: Any, statement: str, params: tuple[Any, ...] = ()) -> Any:
    row = conn.execute(statement, params).fetchone()
    return row[0] if row else None


@dataclass(frozen=True)
class Mark:
    """The server's counters at one instant."""

    xid: int
    lsn: str
    stat_records: int


class Window:
    """A context manager measuring the server's writes between its entry and its exit."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._conn: Any = None
        self._walinspect = False
        self._start: Mark | None = None
        self._end: Mark | None = None

    def __enter__(self) -> Window:
        import psycopg

        self._conn = psycopg.connect(self.url, autocommit=True)
        self._walinspect = self._create_walinspect()
        xid = int(_one(self._conn, "SELECT txid_current()"))  # its commit lands before the LSN
        lsn, records = self._wal_position()
        self._start = Mark(xid, lsn, records)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if error is not None:  # nothing to report: the measurement itself failed
            self._conn.close()
            return
        lsn, records = self._wal_position()
        xid = int(_one(self._conn, "SELECT txid_current()"))  # its commit lands after the LSN
        self._end = Mark(xid, lsn, records)

    def _create_walinspect(self) -> bool:
        import psycopg

        try:
            self._conn.execute("CREATE EXTENSION IF NOT EXISTS pg_walinspect")
        except psycopg.Error:
            return False
        return True

    def _wal_position(self) -> tuple[str, int]:
        row = self._conn.execute(
            "SELECT pg_current_wal_insert_lsn()::text, wal_records FROM pg_stat_wal"
        ).fetchone()
        return str(row[0]), int(row[1])

    def per_execution(self, executions: int) -> dict[str, Any]:
        """The span's cost divided by `executions`, and how the records were counted."""
        assert self._start is not None and self._end is not None, "the window was not closed"
        start, end = self._start, self._end
        try:
            wal_bytes = float(
                _one(self._conn, "SELECT pg_wal_lsn_diff(%s, %s)", (end.lsn, start.lsn))
            )
            records, fpi_bytes, method = self._records(start, end)
        finally:
            self._conn.close()
        return {
            "write_transactions": (end.xid - start.xid - 1) / executions,
            "wal_bytes": wal_bytes / executions,
            "wal_records": records / executions,
            "fpi_bytes": None if fpi_bytes is None else fpi_bytes / executions,
            "records_counted_by": method,
        }

    def _records(self, start: Mark, end: Mark) -> tuple[int, float | None, str]:
        if not self._walinspect:
            return end.stat_records - start.stat_records, None, "pg_stat_wal (approximate)"
        self._wait_flushed(end.lsn)
        row = self._conn.execute(
            "SELECT coalesce(sum(count), 0), coalesce(sum(fpi_size), 0)"
            " FROM pg_get_wal_stats(%s, %s)",
            (start.lsn, end.lsn),
        ).fetchone()
        return int(row[0]), float(row[1]), "pg_walinspect"

    def _wait_flushed(self, lsn: str) -> None:
        """pg_walinspect reads only flushed WAL; the WAL writer flushes within its delay."""
        deadline = time.monotonic() + FLUSH_WAIT_SECONDS
        check = "SELECT pg_wal_lsn_diff(pg_current_wal_flush_lsn(), %s) >= 0"
        while not _one(self._conn, check, (lsn,)) and time.monotonic() < deadline:
            time.sleep(0.02)


def measure(url: str | None, executions: int, run: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """`run()`'s measurement, with the server's cost per execution when `url` is given."""
    if url is None:
        return run()
    with Window(url) as window:
        measured = run()
    measured.setdefault("details", {})["server"] = window.per_execution(executions)
    return measured

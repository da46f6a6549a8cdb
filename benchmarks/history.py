"""A store's past: finished executions written straight into a fresh store, before a workload.

A deployment's store keeps every finished execution until it is pruned, so what a
worker does per execution must not grow with them. W5H measures W5 on a store
that already holds HISTORY finished executions, all older than the measured ones.
"""

from __future__ import annotations

import contextlib
import sqlite3
from typing import Any

HISTORY = 100_000
QUICK_HISTORY = 1_000
_BATCH = 5_000
_COUNT = "SELECT count(*) FROM executions WHERE status = 'SUCCESS'"
_INSERT = (
    "INSERT INTO executions (id, workflow_name, status, created_at, updated_at, started_at, "
    "finished_at, arg, result) VALUES ({marks})"
)


def fill(url: str, count: int) -> int:
    """Write `count` SUCCESS executions of the `echo` workflow into the store at `url`;
    return how many finished executions the store then holds, read back.

    On PostgreSQL the table is then analysed, as autovacuum would have done on a store
    that grew this large; SQLite stores are never analysed by stackflow.
    """
    from stackflow.clock import new_id, now_ms

    now = now_ms()
    rows = [
        (new_id(), "echo", "SUCCESS", now, now, now, now, '{"i":0}', '{"i":0}')
        for _ in range(count)
    ]
    if url.startswith("sqlite:///"):
        with contextlib.closing(sqlite3.connect(url[len("sqlite:///") :])) as conn:
            with conn:
                conn.executemany(_INSERT.format(marks=", ".join("?" * 9)), rows)
            return int(conn.execute(_COUNT).fetchone()[0])
    return _fill_postgres(url, rows)


def _fill_postgres(url: str, rows: list[tuple[Any, ...]]) -> int:
    import psycopg

    with psycopg.connect(url) as conn, conn.cursor() as cursor:
        statement = _INSERT.format(marks=", ".join(["%s"] * 9))
        for start in range(0, len(rows), _BATCH):
            cursor.executemany(statement, rows[start : start + _BATCH])
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ANALYZE executions")
        found = conn.execute(_COUNT).fetchone()
    return int(found[0]) if found else 0

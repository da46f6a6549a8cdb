"""The physical floor: one small JSON INSERT + COMMIT per row, with nothing else around it."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any

from benchmarks import pg


def sqlite_commit_us(directory: Path, n: int, synchronous: str) -> dict[str, Any]:
    """Bare sqlite3 in WAL mode: µs per INSERT + COMMIT of one small JSON row."""
    conn = sqlite3.connect(directory / "floor.db", isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={synchronous}")
        conn.execute("CREATE TABLE rows (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
        started = time.perf_counter()
        for i in range(n):
            conn.execute("BEGIN")
            conn.execute("INSERT INTO rows (body) VALUES (?)", (json.dumps({"i": i, "ok": True}),))
            conn.execute("COMMIT")
        elapsed = time.perf_counter() - started
    finally:
        conn.close()
    return {"value": elapsed / n * 1e6, "details": {"synchronous": synchronous}}


def postgres_commit_us(url: str, n: int) -> dict[str, Any]:
    """psycopg 3 against PostgreSQL: µs per INSERT + COMMIT of one small JSON row."""
    import psycopg

    with pg.fresh_database(url) as (db_url, note), psycopg.connect(db_url) as conn:
        conn.execute("CREATE TABLE bench_floor (id BIGSERIAL PRIMARY KEY, body JSONB NOT NULL)")
        conn.commit()
        started = time.perf_counter()
        for i in range(n):
            conn.execute(
                "INSERT INTO bench_floor (body) VALUES (%s)", (json.dumps({"i": i, "ok": True}),)
            )
            conn.commit()
        elapsed = time.perf_counter() - started
        conn.execute("DROP TABLE bench_floor")
        conn.commit()
    return {"value": elapsed / n * 1e6, "details": {"database": note}}

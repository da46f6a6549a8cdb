"""Retention under SIGKILL: a worker killed in the middle of a background prune leaves no
execution half-deleted, and the prune finishes later (both backends)."""

from __future__ import annotations

import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, contextmanager
from typing import Any

import pytest
from commands import wait_until
from faultkit import FaultProject

from stackflow.store import open_store
from stackflow.store.sqlite import sqlite_path

pytestmark = pytest.mark.slow

OLD = 6000
"""Old SUCCESS executions to prune: at 20 per batch with a pause, a prune of many seconds."""
JOBS_PER_EXECUTION = 3
DAY_MS = 86_400_000


@contextmanager
def connect(url: str) -> Iterator[tuple[Any, str]]:
    """A DB-API connection to the store's database, and its parameter mark."""
    if url.startswith("sqlite:"):
        with closing(sqlite3.connect(sqlite_path(url), timeout=30)) as conn:
            yield conn, "?"
            conn.commit()
        return
    import psycopg

    with psycopg.connect(url) as conn:
        yield conn, "%s"


def _insert(conn: Any, mark: str, table: str, columns: str, rows: Sequence[tuple[Any, ...]]):
    marks = ", ".join([mark] * len(rows[0]))
    with closing(conn.cursor()) as cursor:
        cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)


def fill(url: str, status: str, count: int, finished_ms: int) -> list[str]:
    """`count` final executions that finished at `finished_ms`, each with its job executions
    and a resolved wait point, written straight into the tables."""
    ids = [str(uuid.uuid4()) for _ in range(count)]
    executions = [
        ("faults", status, finished_ms - 10, finished_ms - 9, finished_ms, finished_ms, "{}", i)
        for i in ids
    ]
    jobs = [
        (i, seq, f"{seq:06d}" if seq else "", "step", "main/step",
         "SUCCESS", 1, finished_ms - 5, finished_ms - 4, "{}", "{}")
        for i in ids
        for seq in range(JOBS_PER_EXECUTION)
    ]  # fmt: skip
    waits = [(i, "000009", "wait_point", "ok", "{}", "{}", finished_ms - 3) for i in ids]
    with connect(url) as (conn, mark):
        _insert(
            conn, mark, "executions",
            "workflow_name, status, created_at, started_at, finished_at, updated_at, arg, id",
            executions,
        )  # fmt: skip
        _insert(
            conn, mark, "job_executions",
            "execution_id, seq, call_path, job_name, stacked_job_name, status, attempt, "
            "started_at, finished_at, input, result",
            jobs,
        )  # fmt: skip
        _insert(
            conn, mark, "waits",
            "execution_id, call_path, kind, wait_key, payload, result, created_at",
            waits,
        )  # fmt: skip
    return ids


def count(url: str, query: str) -> int:
    with connect(url) as (conn, _):
        return int(conn.execute(query).fetchone()[0])


def half_deleted(url: str) -> dict[str, int]:
    """Rows left without their execution, and executions left without all their rows."""
    return {
        "orphan job executions": count(
            url,
            "SELECT count(*) FROM job_executions j WHERE NOT EXISTS "
            "(SELECT 1 FROM executions e WHERE e.id = j.execution_id)",
        ),
        "orphan waits": count(
            url,
            "SELECT count(*) FROM waits w WHERE NOT EXISTS "
            "(SELECT 1 FROM executions e WHERE e.id = w.execution_id)",
        ),
        "executions missing rows": count(
            url,
            "SELECT count(*) FROM executions e WHERE "
            f"(SELECT count(*) FROM job_executions j WHERE j.execution_id = e.id) <> "
            f"{JOBS_PER_EXECUTION} OR "
            "(SELECT count(*) FROM waits w WHERE w.execution_id = e.id) <> 1",
        ),
    }


def test_a_worker_killed_mid_prune_leaves_nothing_half_deleted(
    fault_project: Callable[[str, float], FaultProject], store_url: str
) -> None:
    project = fault_project(store_url, 5.0)
    with (project.root / "stackflow.toml").open("a") as config:
        config.write('[retention]\nolder_than = "1d"\n')
    open_store(store_url).close()  # the schema
    now = int(time.time() * 1000)
    old = fill(store_url, "SUCCESS", OLD, now - 3 * DAY_MS)
    kept = fill(store_url, "FAILED", 5, now - 3 * DAY_MS) + fill(store_url, "SUCCESS", 5, now)
    total = len(old) + len(kept)
    executions = "SELECT count(*) FROM executions"

    worker = project.start_worker()
    wait_until(lambda: count(store_url, executions) < total, 30, "the prune to begin")
    project.kill(worker)

    left = count(store_url, executions)
    assert len(kept) < left < total, "the worker was not killed in the middle of its prune"
    assert half_deleted(store_url) == {
        "orphan job executions": 0,
        "orphan waits": 0,
        "executions missing rows": 0,
    }
    finished = project.engine()
    try:
        report = finished.prune("1d")
    finally:
        finished.close()
    assert report.count == left - len(kept)
    assert count(store_url, executions) == len(kept)
    assert half_deleted(store_url)["executions missing rows"] == 0

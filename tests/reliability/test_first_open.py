"""Many processes opening a fresh store at once: migrations are safe under concurrency."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path
from subprocess import Popen

import pytest
from commands import command_env, stackflow, wait_until
from reliability_kit import WorkerProcess, Workers, write_project

FLOW = """
from stackflow import create_workflow, create_workflow_job

def _hello(input):
    return {"hello": "world"}

hello = create_workflow_job(name="hello", body=_hello)
workflow = create_workflow(name="hello", main_job=hello)
"""

WORKERS = 3
SQLITE_TRIES = 2
POSTGRES_TRIES = 3
START_SECONDS = 60.0
SETTLE_SECONDS = 1.0


def _spawn_together(root: Path, workers: Workers) -> tuple[list[WorkerProcess], Popen[str]]:
    """Three workers and one `workflow start`, launched at the same moment."""
    started = [workers.start(root, wait=False) for _ in range(WORKERS)]
    start = subprocess.Popen(
        [sys.executable, "-m", "stackflow", "workflow", "start", "hello", "-m", "admin", "-j"],
        cwd=root,
        env=command_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    return started, start


def _problems(root: Path, started: list[WorkerProcess], start: Popen[str]) -> list[str]:
    """What went wrong: a failed start, a worker that exited, an execution left undone."""
    out, err = start.communicate(timeout=START_SECONDS)
    problems = [] if start.returncode == 0 else [f"start exit {start.returncode}: {err}"]
    for worker in started:
        wait_until(
            lambda w=worker: " started " in w.text() or w.process.poll() is not None,
            START_SECONDS,
            "a worker to start or exit",
        )
    problems += [
        f"worker exited {w.process.returncode}: {w.text()[-300:]}"
        for w in started
        if w.process.poll() is not None
    ]
    if start.returncode == 0 and not problems:
        execution_id = json.loads(out)["executionId"]
        wait_until(lambda: _done(root, execution_id), START_SECONDS, "the execution to finish")
    return problems


def _opened(pid: int, database: Path) -> bool:
    """Whether process `pid` holds the database file open (it reached the store)."""
    fds = Path(f"/proc/{pid}/fd")
    try:
        return any(os.readlink(fd) == str(database) for fd in fds.iterdir())
    except OSError:
        return True  # it exited: nothing to wait for


def _done(root: Path, execution_id: str) -> bool:
    shown = stackflow(root, "workflow", "executions", execution_id, "-j")
    return shown.code == 0 and shown.json()["status"] == "SUCCESS"


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_workers_and_a_start_opening_a_fresh_sqlite_store_together(tmp_path: Path) -> None:
    """Every process reaches the empty store before any of them migrates it.

    The store is an empty WAL file (what a first open killed before migrating leaves),
    and the test holds its write lock, as a migrating process would, until each
    process has the file open; then it lets go and they all migrate at once.
    """
    for attempt in range(SQLITE_TRIES):
        root = tmp_path / f"try{attempt}"
        database = root / "state.db"
        write_project(root, f"sqlite:///{database.as_posix()}", {"hello.py": FLOW})
        tries = Workers()
        try:
            problems = _migrate_together(root, database, tries)
        finally:
            tries.stop_all()
        assert problems == [], f"try {attempt + 1} of {SQLITE_TRIES}"


def _migrate_together(root: Path, database: Path, workers: Workers) -> list[str]:
    with closing(sqlite3.connect(database, isolation_level=None)) as holder:
        holder.execute("PRAGMA journal_mode=WAL")
        holder.execute("BEGIN IMMEDIATE")
        started, start = _spawn_together(root, workers)
        pids = [w.process.pid for w in started] + [start.pid]
        wait_until(
            lambda: all(_opened(pid, database) for pid in pids),
            START_SECONDS,
            "every process to open the store",
        )
        time.sleep(SETTLE_SECONDS)  # each reads the schema version, then waits to write
        holder.execute("ROLLBACK")
    return _problems(root, started, start)


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.timeout(600)
def test_workers_and_a_start_opening_a_fresh_postgres_store_together(
    tmp_path: Path, postgres_url: str
) -> None:
    """PostgreSQL migrates under an advisory lock: a guard that it stays so."""
    import psycopg

    for attempt in range(POSTGRES_TRIES):
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute("DROP SCHEMA public CASCADE")
            conn.execute("CREATE SCHEMA public")
        root = tmp_path / f"try{attempt}"
        write_project(root, postgres_url, {"hello.py": FLOW})
        tries = Workers()
        try:
            problems = _problems(root, *_spawn_together(root, tries))
        finally:
            tries.stop_all()
        assert problems == [], f"try {attempt + 1} of {POSTGRES_TRIES}"

"""Reproducing the reliability defects: small projects, the real CLI, real worker processes."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import textwrap
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from commands import COMMAND_SECONDS, command_env, wait_until

WORKER_START_SECONDS = 30.0


def write_project(root: Path, database: str, flows: dict[str, str], extra_config: str = "") -> Path:
    """A project at `root` on `database` with workflow files `flows` (name -> source)."""
    (root / "workflows").mkdir(parents=True, exist_ok=True)
    for name, source in flows.items():
        (root / "workflows" / name).write_text(textwrap.dedent(source), encoding="utf-8")
    config = f"""
        name = "reliability"
        database = "{database}"
        [workflow]
        files = ["workflows/*.py"]
        [machine_users.admin]
        attributes = {{ role = "ADMIN" }}
        """
    (root / "stackflow.toml").write_text(
        textwrap.dedent(config) + textwrap.dedent(extra_config), encoding="utf-8"
    )
    return root


@dataclass
class WorkerProcess:
    """One `stackflow worker` process and its log."""

    process: subprocess.Popen[bytes]
    log: Path

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def signal(self, number: int) -> None:
        self.process.send_signal(number)


@dataclass
class Workers:
    """Worker processes started by a test; every one is killed (by pid) afterwards."""

    started: list[WorkerProcess] = field(default_factory=list)

    def start(self, root: Path, *args: str, wait: bool = True, **env: str) -> WorkerProcess:
        log = root / f"worker-{len(self.started)}.log"
        with open(log, "wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "stackflow", "worker", *args],
                cwd=root,
                env=command_env(**env),
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        worker = WorkerProcess(process, log)
        self.started.append(worker)
        if wait:
            wait_until(
                lambda: " started " in worker.text() or process.poll() is not None,
                WORKER_START_SECONDS,
                "a worker to start",
            )
        return worker

    def stop_all(self) -> None:
        for worker in self.started:
            if worker.process.poll() is None:
                worker.signal(signal.SIGCONT)
                worker.process.kill()
            worker.process.wait(timeout=COMMAND_SECONDS)


def sqlite_file(url: str) -> Path:
    return Path(url[len("sqlite:///") :])


def sqlite_rows(url: str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(sqlite_file(url))) as conn:
        return conn.execute(sql, params).fetchall()


def store_rows(url: str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Rows of a query on either backend's store (`?` placeholders)."""
    if url.startswith("sqlite:"):
        return sqlite_rows(url, sql, params)
    import psycopg

    with psycopg.connect(url) as conn:
        return [tuple(row) for row in conn.execute(sql.replace("?", "%s"), params).fetchall()]


def store_execute(url: str, sql: str, params: tuple[Any, ...] = ()) -> None:
    """Run one statement on either backend's store, committed."""
    if url.startswith("sqlite:"):
        with closing(sqlite3.connect(sqlite_file(url), timeout=30)) as conn:
            conn.execute(sql, params)
            conn.commit()
        return
    import psycopg

    with psycopg.connect(url) as conn:
        conn.execute(sql.replace("?", "%s"), params)

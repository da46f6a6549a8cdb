"""Migrations and transactional jobs that fail: concurrent TailorDB migrations, a job
whose transaction cannot open (the reason is reported, never "generator didn't yield")."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from commands import command_env, stackflow
from reliability_kit import write_project

FLOW = """
from stackflow import create_workflow, create_workflow_job
from stackflow.tailordb import get_db

def _book(input):
    get_db("tailordb").insert_into("Booking").values({"label": "x"}).execute()
    return {"booked": True}

book = create_workflow_job(name="book", body=_book, transactional=True)

def _main(input, ctx):
    return ctx.jobs.book({})

main = create_workflow_job(name="main", body=_main, deps=[book])
workflow = create_workflow(name="booking", main_job=main)
"""

TYPES = 'from stackflow.tailordb import db\nbooking = db.type("Booking", {FIELDS})\n'
LABEL = '"label": db.string()'
REQUIRED_TOTAL = '"label": db.string(), "total": db.int()'  # required, no default
BARRIER = Path(__file__).parent / "barrier"
MIGRATORS = 3


def _project(root: Path, url: str, fields: str = LABEL) -> Path:
    write_project(root, url, {"booking.py": FLOW}, '[db.tailordb]\nfiles = ["tailordb/*.py"]\n')
    (root / "tailordb").mkdir(exist_ok=True)
    (root / "tailordb" / "booking.py").write_text(TYPES.replace("FIELDS", fields))
    return root


def test_a_transactional_job_that_cannot_open_its_transaction_fails_with_the_reason(
    tmp_path: Path, store_url: str
) -> None:
    root = _project(tmp_path, store_url)
    first = stackflow(root, "workflow", "start", "booking", "-m", "admin", "-W", "-j")
    assert first.code == 0, first.stderr
    _project(root, store_url, REQUIRED_TOTAL)  # the table has a row: this cannot migrate

    done = stackflow(root, "workflow", "start", "booking", "-m", "admin", "-W", "-l", "-j")

    assert done.code == 1, done.stderr
    shown = done.json()
    assert "generator didn't yield" not in str(shown["error"])
    assert "cannot be migrated safely" in shown["error"]["message"]
    books = [job for job in shown["jobDetails"] if job["stackedJobName"] == "main/book"]
    assert [job["status"] for job in books] == ["FAILED"]


def _migrate_together(root: Path, barrier: Path) -> list[subprocess.CompletedProcess[str]]:
    """MIGRATORS `stackflow db migrate` at once, each waiting for the others after planning."""
    env = command_env(
        PYTHONPATH=os.pathsep.join([str(BARRIER), os.environ.get("PYTHONPATH", "")]),
        MIGRATE_BARRIER=str(barrier),
        MIGRATE_PARTIES=str(MIGRATORS),
    )
    command = [sys.executable, "-m", "stackflow", "db", "migrate"]
    started = [
        subprocess.Popen(
            command, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(MIGRATORS)
    ]
    done = []
    for process in started:
        out, err = process.communicate(timeout=60)
        done.append(subprocess.CompletedProcess(process.args, process.returncode, out, err))
    return done


def _assert_all_migrated(tmp_path: Path, url: str) -> None:
    root = _project(tmp_path / "project", url)
    barrier = tmp_path / "barrier"
    barrier.mkdir()

    done = _migrate_together(root, barrier)

    refused = [d.stderr for d in done if d.returncode != 0 or "Error" in d.stderr]
    assert refused == []
    booked = stackflow(root, "workflow", "start", "booking", "-m", "admin", "-W", "-j")
    assert booked.code == 0, booked.stderr


@pytest.mark.postgres
def test_concurrent_tailordb_migrations_on_postgres(tmp_path: Path, postgres_url: str) -> None:
    """PostgreSQL migrates under an advisory lock: the later migrations find nothing to do."""
    _assert_all_migrated(tmp_path, postgres_url)


def test_concurrent_tailordb_migrations_on_sqlite(tmp_path: Path, sqlite_url: str) -> None:
    """SQLite migrates inside BEGIN IMMEDIATE: a guard that it stays serialized."""
    _assert_all_migrated(tmp_path, sqlite_url)

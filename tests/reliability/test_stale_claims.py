"""A worker paused past its lease starts no job body when it continues.

Its execution has been claimed by another worker meanwhile: the stale run's writes are
refused (fenced), and it must not run bodies either, so two runs of one execution never
overlap. The stall points are in tests/reliability/stall/sitecustomize.py.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from commands import command_env, stackflow, wait_until
from reliability_kit import Workers, store_execute, store_rows, write_project

FLOW = """
import os
from pathlib import Path

from stackflow import create_workflow, create_workflow_job
from stackflow.tailordb import get_db

def _book(input):
    Path(os.environ["BOOK_MARKS"]).write_text(f"body ran in {os.getpid()}")
    get_db("tailordb").insert_into("Booking").values({"label": "once"}).execute()
    return {"booked": True}

book = create_workflow_job(name="book", body=_book, transactional=True)

def _main(input, ctx):
    return ctx.jobs.book({})

main = create_workflow_job(name="main", body=_main, deps=[book])
workflow = create_workflow(name="booking", main_job=main)
"""

BOOKING = """
from stackflow.tailordb import db

booking = db.type("Booking", {"label": db.string()})
"""

STALL = Path(__file__).parent / "stall"
STALL_SECONDS = 4.0


@pytest.mark.slow
def test_a_transactional_body_never_starts_under_a_lost_claim(
    tmp_path: Path, store_url: str, workers: Workers
) -> None:
    """Stalled after recording its start, before its transaction; meanwhile claimed again."""
    root = write_project(
        tmp_path, store_url, {"booking.py": FLOW}, '[db.tailordb]\nfiles = ["tailordb/*.py"]\n'
    )
    (root / "tailordb").mkdir()
    (root / "tailordb" / "booking.py").write_text(BOOKING)
    stalled, body = tmp_path / "stalled", tmp_path / "body"
    pythonpath = os.pathsep.join([str(STALL), os.environ.get("PYTHONPATH", "")])
    worker = workers.start(
        root,
        PYTHONPATH=pythonpath,
        STALL_MARKER=str(stalled),
        STALL_AT="transaction",
        STALL_SECONDS=str(STALL_SECONDS),
        BOOK_MARKS=str(body),
    )
    started = stackflow(root, "workflow", "start", "booking", "-m", "admin", "-j")
    execution_id = started.json()["executionId"]

    wait_until(stalled.exists, 30.0, "the transactional job to record its start")
    store_execute(  # another worker claims the execution (its lease bumped the fence)
        store_url,
        "UPDATE executions SET fence = fence + 1, lease_owner = 'another-worker' WHERE id = ?",
        (execution_id,),
    )
    time.sleep(STALL_SECONDS + 2.0)

    assert not body.exists(), body.read_text()
    assert store_rows(store_url, 'SELECT count(*) FROM "Booking"') == [(0,)]
    assert "Traceback" not in worker.text()


CHAIN = """
import os
from pathlib import Path

from stackflow import create_workflow, create_workflow_job

def _first(input):
    return {"first": True}

def _second(input):
    with open(os.environ["CHAIN_MARKS"], "a") as marks:
        marks.write(f"{os.getpid()}\\n")
    return {"second": True}

first = create_workflow_job(name="first", body=_first)
second = create_workflow_job(name="second", body=_second)

def _main(input, ctx):
    ctx.jobs.first({})
    return ctx.jobs.second({})

main = create_workflow_job(name="main", body=_main, deps=[first, second])
workflow = create_workflow(name="chain", main_job=main)
"""

LEASE_SECONDS = 2.0
CHILD_STALL_SECONDS = 4.0


@pytest.mark.slow
def test_a_worker_paused_past_its_lease_starts_no_job_body(
    tmp_path: Path, store_url: str, workers: Workers
) -> None:
    """Paused (SIGSTOP) just before calling a child; another worker finishes the execution."""
    root = write_project(
        tmp_path, store_url, {"chain.py": CHAIN}, f"[engine]\nlease_seconds = {LEASE_SECONDS}\n"
    )
    stalled, marks = tmp_path / "stalled", tmp_path / "marks"
    env = {
        "PYTHONPATH": os.pathsep.join([str(STALL), os.environ.get("PYTHONPATH", "")]),
        "STALL_MARKER": str(stalled),
        "STALL_AT": "second",
        "STALL_SECONDS": str(CHILD_STALL_SECONDS),
        "CHAIN_MARKS": str(marks),
    }
    paused = workers.start(root, **env)
    starting = subprocess.Popen(  # not waited for: the pause must land within the stall
        [sys.executable, "-m", "stackflow", "workflow", "start", "chain", "-m", "admin", "-j"],
        cwd=root,
        env=command_env(),
        stdout=subprocess.PIPE,
        text=True,
    )
    wait_until(stalled.exists, 30.0, "the first worker to reach the call of 'second'")
    paused.signal(signal.SIGSTOP)
    execution_id = json.loads(starting.communicate(timeout=60)[0])["executionId"]
    rescuer = workers.start(root, **env)
    wait_until(lambda: _status(root, execution_id) == "SUCCESS", 30.0, "the takeover to finish")

    paused.signal(signal.SIGCONT)
    time.sleep(CHILD_STALL_SECONDS + 2.0)  # its stall ends; it must notice it lost the execution

    assert marks.read_text().split() == [str(rescuer.process.pid)]
    assert "Traceback" not in paused.text()


def _status(root: Path, execution_id: str) -> str:
    return str(stackflow(root, "workflow", "executions", execution_id, "-j").json()["status"])

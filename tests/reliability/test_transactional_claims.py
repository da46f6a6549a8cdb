"""Found by the soak: a transactional job's body starts under a claim another run took over.

A worker paused (SIGSTOP) after a transactional job recorded its start, and before its
transaction began, ran the body on continuing although the execution had been claimed
again meanwhile: two runs of one execution at once. Its writes were rolled back (the
checkpoint is fenced), but the body ran. The pause is reproduced here by a stall at that
point (tests/reliability/stall/sitecustomize.py) and the claim by a fence bumped by hand.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from reliability_kit import Workers, stackflow, store_execute, store_rows, wait_until, write_project

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
@pytest.mark.xfail(
    strict=True, reason="soak: a transactional body starts under a claim taken over meanwhile"
)
def test_a_transactional_body_never_starts_under_a_lost_claim(
    tmp_path: Path, store_url: str, workers: Workers
) -> None:
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

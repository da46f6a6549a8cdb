"""Transactional jobs: their writes and their checkpoint commit together, even across SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tailordb_helpers import MakeProject

from stackflow.engine.engine import Engine
from stackflow.tailordb import get_db

FLOW = """
import os
import time
from pathlib import Path

from stackflow import create_workflow, create_workflow_job
from stackflow.tailordb import get_db

MARKS = Path(os.environ.get("TXFLOW_DIR", "."))


def _add(input):
    db = get_db("tailordb")
    row = (db.insert_into("Customer").values({"name": input["name"], "email": input["email"]})
             .returning(["id"]).execute_take_first())
    (MARKS / "inserted").write_text(row["id"])
    if os.environ.get("TXFLOW_HANG") == "in-job":
        time.sleep(120)
    return {"id": row["id"]}


add_customer = create_workflow_job(name="add-customer", body=_add, transactional=True)


def _main(input, ctx):
    added = ctx.jobs.add_customer(input)
    if os.environ.get("TXFLOW_HANG") == "after-job":
        (MARKS / "returned").write_text("yes")
        time.sleep(120)
    return added


main = create_workflow_job(name="main", body=_main, deps=[add_customer])
workflow = create_workflow(name="add", main_job=main)
"""

RUNNER = """
import sys
from stackflow import Engine

engine = Engine.from_config(sys.argv[1])
execution_id = engine.start("add", {"name": "Ada", "email": "ada@example.com"}, invoker="admin")
print(execution_id, flush=True)
engine.wait(execution_id, run_here=True)
"""

FAILING_FLOW = """
from stackflow import create_workflow, create_workflow_job
from stackflow.tailordb import get_db


def _add(input):
    get_db("tailordb").insert_into("Customer").values({"name": "x", "email": "x@x"}).execute()
    raise RuntimeError("changed my mind")


add_customer = create_workflow_job(name="add-customer", body=_add, transactional=True)
workflow = create_workflow(name="add", main_job=add_customer)
"""

CALLING_FLOW = """
from stackflow import create_workflow, create_workflow_job

leaf = create_workflow_job(name="leaf", body=lambda: 1)


def _tx(input, ctx):
    return ctx.jobs.leaf()


tx = create_workflow_job(name="tx", body=_tx, deps=[leaf], transactional=True)
workflow = create_workflow(name="tx-calls", main_job=tx)
"""


def _wait_for(path: Path) -> None:
    deadline = time.monotonic() + 60
    while not path.exists():
        assert time.monotonic() < deadline, f"{path.name} never appeared"
        time.sleep(0.05)


@pytest.mark.parametrize("hang", ["in-job", "after-job"])
def test_sigkill_around_a_transactional_job_leaves_one_row_and_one_result(
    make_project: MakeProject, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hang: str
) -> None:
    config = make_project(workflows={"add.py": FLOW}, extra_toml="[engine]\nlease_seconds = 1\n")
    marks = tmp_path / "marks"
    marks.mkdir()
    env = {**os.environ, "TXFLOW_DIR": str(marks), "TXFLOW_HANG": hang}
    victim = subprocess.Popen(
        [sys.executable, "-c", RUNNER, str(config)], stdout=subprocess.PIPE, text=True, env=env
    )
    assert victim.stdout is not None
    execution_id = victim.stdout.readline().strip()
    _wait_for(marks / ("inserted" if hang == "in-job" else "returned"))
    time.sleep(0.3)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    victim.stdout.close()

    monkeypatch.setenv("TXFLOW_DIR", str(marks))
    with Engine.from_config(config) as engine:
        done = engine.wait(execution_id, timeout=60)
    assert done.status == "SUCCESS", done.error
    rows = get_db("tailordb").select_from("Customer").select_all().execute()
    assert [row["email"] for row in rows] == ["ada@example.com"]
    assert done.result == {"id": rows[0]["id"]}
    adds = [j for j in done.job_executions if j.job_name == "add-customer"]
    assert [j.status for j in adds].count("SUCCESS") == 1
    if hang == "in-job":
        assert [j.status for j in adds] == ["FAILED", "SUCCESS"]
        assert adds[0].error is not None and adds[0].error["type"] == "stackflow.WorkerLost"
    else:
        assert [j.status for j in adds] == ["SUCCESS"]


def test_a_failing_transactional_job_rolls_its_writes_back(make_project: MakeProject) -> None:
    config = make_project(workflows={"add.py": FAILING_FLOW})
    with Engine.from_config(config) as engine:
        failed = engine.wait(engine.start("add", {}, invoker="admin"))
    assert failed.status == "FAILED"
    assert failed.error is not None and "changed my mind" in failed.error["message"]
    assert get_db("tailordb").select_from("Customer").execute() == []


def test_a_transactional_job_cannot_call_other_jobs(make_project: MakeProject) -> None:
    config = make_project(workflows={"calls.py": CALLING_FLOW})
    with Engine.from_config(config) as engine:
        failed = engine.wait(engine.start("tx-calls", {}, invoker="admin"))
    assert failed.status == "FAILED"
    assert failed.error is not None and "cannot call other jobs" in failed.error["message"]

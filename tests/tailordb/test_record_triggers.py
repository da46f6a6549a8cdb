"""Record triggers: one execution per committed row change, made in the write's transaction."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from tailordb_helpers import MakeProject

from stackflow import Execution
from stackflow.engine.engine import Engine
from stackflow.store import open_store
from stackflow.tailordb import RecordTriggerError, UniqueViolation, get_db
from stackflow.tailordb.triggers import MAX_TRIGGER_DEPTH

NOTED = """
from stackflow import create_record_trigger, create_workflow, create_workflow_job


def _note(event):
    return {"op": event["op"], "name": (event["new"] or event["old"])["name"]}


note = create_workflow_job(name="note", body=_note)
workflow = create_workflow(name="noted", main_job=note)
every_write = create_record_trigger(
    "every-write", type="Customer", workflow=workflow, machine_user="admin"
)
"""

VIP = """
from stackflow import create_record_trigger, create_workflow, create_workflow_job

greet = create_workflow_job(name="greet", body=lambda input: input)
workflow = create_workflow(name="greet-vip", main_job=greet)
vip = create_record_trigger(
    "vip",
    type="Customer",
    on=("create", "update"),
    workflow=workflow,
    machine_user="viewer",
    condition=lambda event: (event["new"]["credit"] or 0) >= 100,
    args=lambda event: {"customerId": event["new"]["id"], "op": event["op"]},
)
"""

ADD = """
import os
import time
from pathlib import Path

from stackflow import create_workflow, create_workflow_job
from stackflow.tailordb import get_db

MARKS = Path(os.environ.get("TRIGGER_MARKS", "."))


def _add(input):
    get_db("tailordb").insert_into("Customer").values(
        {"name": input["name"], "email": input["email"]}
    ).execute()
    (MARKS / "inserted").write_text("yes")
    if os.environ.get("TRIGGER_HANG") == "in-job":
        time.sleep(120)
    return {"added": input["name"]}


add_customer = create_workflow_job(
    name="add-customer", body=_add, transactional=os.environ.get("TRIGGER_TX") == "1"
)


def _main(input, ctx):
    added = ctx.jobs.add_customer(input)
    if os.environ.get("TRIGGER_HANG") == "after-job":
        (MARKS / "returned").write_text("yes")
        time.sleep(120)
    return added


main = create_workflow_job(name="main", body=_main, deps=[add_customer])
workflow = create_workflow(name="add", main_job=main)
"""

LOOP = """
from stackflow import create_record_trigger, create_workflow, create_workflow_job
from stackflow.tailordb import get_db


def _touch(event):
    credit = event["new"]["credit"] + 1
    get_db("tailordb").update_table("Customer").set({"credit": credit}).where(
        "id", "=", event["new"]["id"]
    ).execute()
    return {"credit": credit}


touch = create_workflow_job(name="touch", body=_touch)
workflow = create_workflow(name="touch-again", main_job=touch)
again = create_record_trigger(
    "again", type="Customer", on="update", workflow=workflow, machine_user="admin"
)
"""

RUNNER = """
import sys
from stackflow import Engine

engine = Engine.from_config(sys.argv[1])
execution_id = engine.start("add", {"name": "Ada", "email": "ada@example.com"}, invoker="admin")
print(execution_id, flush=True)
engine.wait(execution_id, run_here=True)
"""


def _executions(config: Path, workflow: str) -> list[Execution]:
    """The workflow's executions, oldest first."""
    with Engine.from_config(config) as engine:
        return list(reversed(engine.list_executions(workflow)))


def _customer(name: str, **fields: Any) -> dict[str, Any]:
    return {"name": name, "email": f"{name.lower()}@example.com", **fields}


def test_each_committed_row_change_starts_one_execution_with_its_event(
    make_project: MakeProject,
) -> None:
    config = make_project(workflows={"noted.py": NOTED})
    db = get_db("tailordb")
    assert db.insert_into("Customer").values(_customer("Ada")).execute() == 1
    inserted = db.insert_into("Customer").values([_customer("Bob"), _customer("Cy")]).execute()
    assert inserted == 2
    updated = (
        db.update_table("Customer")
        .set({"credit": 5})
        .where("name", "in", ["Ada", "Bob"])
        .returning(["name"])
        .execute()
    )
    assert sorted(row["name"] for row in updated) == ["Ada", "Bob"]
    assert db.update_table("Customer").set({"credit": 1}).where("name", "=", "Zed").execute() == 0
    assert db.delete_from("Customer").where("name", "=", "Cy").execute() == 1

    found = _executions(config, "noted")
    assert sorted((e.arg["op"], (e.arg["new"] or e.arg["old"])["name"]) for e in found) == [
        ("create", "Ada"),
        ("create", "Bob"),
        ("create", "Cy"),
        ("delete", "Cy"),
        ("update", "Ada"),
        ("update", "Bob"),
    ]
    assert all(e.status == "PENDING" and e.invoker["id"] == "admin" for e in found)  # type: ignore[index]
    update = next(e.arg for e in found if e.arg["op"] == "update" and e.arg["new"]["name"] == "Ada")
    assert set(update) == {"type", "op", "new", "old"} and update["type"] == "Customer"
    assert (update["old"]["credit"], update["new"]["credit"]) == (None, 5)
    assert update["old"]["id"] == update["new"]["id"]
    assert update["old"]["updatedAt"] is None and update["new"]["updatedAt"].endswith("Z")
    delete = next(e.arg for e in found if e.arg["op"] == "delete")
    assert delete["new"] is None and delete["old"]["email"] == "cy@example.com"

    with Engine.from_config(config) as engine:
        assert engine.run_pending() == 6
        done = engine.list_executions("noted")
    assert {e.status for e in done} == {"SUCCESS"}
    assert {(e.result["op"], e.result["name"]) for e in done} >= {("delete", "Cy")}


def test_a_rolled_back_write_starts_nothing(make_project: MakeProject) -> None:
    config = make_project(workflows={"noted.py": NOTED})
    db = get_db("tailordb")
    with pytest.raises(RuntimeError, match="changed my mind"), db.transaction() as trx:
        trx.insert_into("Customer").values(_customer("Gone")).execute()
        raise RuntimeError("changed my mind")
    with db.transaction() as trx:
        trx.insert_into("Customer").values(_customer("Kept")).execute()
        with pytest.raises(RuntimeError), trx.transaction() as savepoint:
            savepoint.insert_into("Customer").values(_customer("Undone")).execute()
            raise RuntimeError("roll the savepoint back")
    with pytest.raises(UniqueViolation):
        db.insert_into("Customer").values([_customer("Twin"), _customer("Kept")]).execute()

    found = _executions(config, "noted")
    assert [e.arg["new"]["name"] for e in found] == ["Kept"]
    rows = db.select_from("Customer").select(["name"]).execute()
    assert rows == [{"name": "Kept"}]


def test_condition_filters_and_args_shape_the_argument(make_project: MakeProject) -> None:
    config = make_project(workflows={"vip.py": VIP})
    db = get_db("tailordb")
    db.insert_into("Customer").values(_customer("Small", credit=5)).execute()
    big = (
        db.insert_into("Customer")
        .values(_customer("Big", credit=500))
        .returning(["id"])
        .execute_take_first()
    )
    db.update_table("Customer").set({"credit": 150}).where("name", "=", "Small").execute()
    db.delete_from("Customer").execute()  # not watched

    found = _executions(config, "greet-vip")
    assert big is not None
    assert [e.arg["op"] for e in found] == ["create", "update"]
    assert found[0].arg == {"customerId": big["id"], "op": "create"}
    assert found[0].invoker == {
        "id": "viewer",
        "type": "machine_user",
        "attributes": {"role": "VIEWER"},
    }


def test_a_refused_write_in_a_transaction_is_undone_whole(make_project: MakeProject) -> None:
    picky = VIP.replace(
        'condition=lambda event: (event["new"]["credit"] or 0) >= 100,',
        'condition=lambda event: 1 / 0 if event["new"]["name"] == "Bad" else True,',
    )
    config = make_project(workflows={"vip.py": picky})
    db = get_db("tailordb")
    with db.transaction() as trx:
        trx.insert_into("Customer").values(_customer("First")).execute()
        with pytest.raises(RecordTriggerError, match="ZeroDivisionError"):
            trx.insert_into("Customer").values([_customer("Second"), _customer("Bad")]).execute()
    # the caller caught the error and committed: the refused statement left nothing behind
    assert db.select_from("Customer").select(["name"]).execute() == [{"name": "First"}]
    assert len(_executions(config, "greet-vip")) == 1


def test_a_failing_condition_or_bad_args_refuses_the_write(make_project: MakeProject) -> None:
    broken = VIP.replace(
        'condition=lambda event: (event["new"]["credit"] or 0) >= 100,',
        'condition=lambda event: event["new"]["missing"],',
    )
    config = make_project(workflows={"vip.py": broken})
    db = get_db("tailordb")
    with pytest.raises(
        RecordTriggerError,
        match="record trigger 'vip': its condition function raised KeyError: 'missing'",
    ):
        db.insert_into("Customer").values(_customer("Ada")).execute()
    assert db.select_from("Customer").execute() == []
    assert _executions(config, "greet-vip") == []


@pytest.mark.parametrize("transactional", [False, True], ids=["plain-job", "transactional-job"])
def test_writes_in_jobs_fire_in_their_transaction(
    make_project: MakeProject,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    transactional: bool,
) -> None:
    monkeypatch.setenv("TRIGGER_TX", "1" if transactional else "0")
    monkeypatch.setenv("TRIGGER_MARKS", str(tmp_path))
    config = make_project(workflows={"noted.py": NOTED, "add.py": ADD})
    with Engine.from_config(config) as engine:
        added = engine.wait(engine.start("add", _customer("Ada"), invoker="admin"))
        assert added.status == "SUCCESS", added.error
        [noted] = engine.list_executions("noted")
        assert noted.arg["new"]["email"] == "ada@example.com"
        assert engine.wait(noted.id).status == "SUCCESS"


def test_a_waiting_worker_hears_of_the_new_execution_after_the_commit(
    make_project: MakeProject, store_url: str
) -> None:
    config = make_project(workflows={"noted.py": NOTED})
    db = get_db("tailordb")
    store = open_store(store_url)
    listener = store.subscribe()
    try:
        listener.wait(0.05)
        with db.transaction() as trx:
            trx.insert_into("Customer").values(_customer("Ada")).execute()
            assert listener.wait(0.3) in ([], None)
        heard = []
        deadline = time.monotonic() + 5
        while not heard and time.monotonic() < deadline:
            heard = listener.wait(0.2) or []
    finally:
        listener.close()
        store.close()
    [execution] = _executions(config, "noted")
    assert [(c.execution_id, c.status) for c in heard] == [(execution.id, "PENDING")]


def test_a_trigger_loop_stops_at_the_depth_limit(make_project: MakeProject) -> None:
    config = make_project(workflows={"loop.py": LOOP})
    db = get_db("tailordb")
    db.insert_into("Customer").values(_customer("Ada", credit=0)).execute()
    db.update_table("Customer").set({"credit": 0}).execute()
    with Engine.from_config(config) as engine:
        engine.run_pending()
    found = _executions(config, "touch-again")
    assert len(found) == MAX_TRIGGER_DEPTH
    assert [e.status for e in found] == ["SUCCESS"] * (MAX_TRIGGER_DEPTH - 1) + ["FAILED"]
    error = found[-1].error
    assert error is not None and error["type"] == "TriggerLoopError"
    assert f"past the limit of {MAX_TRIGGER_DEPTH}" in error["message"]
    [row] = db.select_from("Customer").select(["credit"]).execute()
    assert row["credit"] == MAX_TRIGGER_DEPTH - 1  # the refused write was rolled back


def _wait_for(path: Path) -> None:
    deadline = time.monotonic() + 60
    while not path.exists():
        assert time.monotonic() < deadline, f"{path.name} never appeared"
        time.sleep(0.05)


@pytest.mark.parametrize(
    ("transactional", "hang", "before_resume"),
    [
        pytest.param("1", "in-job", 0, id="transactional-killed-before-commit"),
        pytest.param("1", "after-job", 1, id="transactional-killed-after-commit"),
        pytest.param("0", "in-job", 1, id="plain-killed-after-its-write-committed"),
    ],
)
def test_sigkill_around_the_write_leaves_one_execution_per_committed_write(
    make_project: MakeProject,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    transactional: str,
    hang: str,
    before_resume: int,
) -> None:
    config = make_project(
        workflows={"noted.py": NOTED, "add.py": ADD}, extra_toml="[engine]\nlease_seconds = 1\n"
    )
    marks = tmp_path / "marks"
    marks.mkdir()
    env = {**os.environ, "TRIGGER_MARKS": str(marks), "TRIGGER_HANG": hang}
    env["TRIGGER_TX"] = transactional
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

    db = get_db("tailordb")
    assert len(db.select_from("Customer").execute()) == before_resume
    assert len(_executions(config, "noted")) == before_resume
    if transactional == "0":
        return  # a plain job runs again on resume: a second write, a second execution
    monkeypatch.setenv("TRIGGER_MARKS", str(marks))
    monkeypatch.setenv("TRIGGER_TX", transactional)
    with Engine.from_config(config) as engine:
        assert engine.wait(execution_id, timeout=60).status == "SUCCESS"
    assert len(db.select_from("Customer").execute()) == 1
    [noted] = _executions(config, "noted")
    assert noted.arg["new"]["name"] == "Ada"

"""TailorDB inside jobs: the seed's fetch-customer through the CLI, errors, permissions."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from tailordb_helpers import MakeProject

from stackflow.engine.engine import Engine
from stackflow.project.loader import load_project

ORDER_FLOW = """
from stackflow import create_workflow, create_workflow_job
from stackflow.tailordb import get_db


def _create(input):
    db = get_db("tailordb")
    row = (db.insert_into("Customer")
             .values({"name": input["name"], "email": input["email"]})
             .returning(["id"]).execute_take_first())
    return {"customerId": row["id"]}


def _fetch(input):
    db = get_db("tailordb")
    return (db.select_from("Customer").select_all()
              .where("id", "=", input["customerId"]).execute_take_first())


create_customer = create_workflow_job(name="create-customer", body=_create)
fetch_customer = create_workflow_job(name="fetch-customer", body=_fetch)


def _main(input, ctx):
    created = ctx.jobs.create_customer(input)
    customer = ctx.jobs.fetch_customer.trigger({"customerId": created["customerId"]})
    return {"customer": customer}


main = create_workflow_job(name="onboard", body=_main, deps=[create_customer, fetch_customer])
workflow = create_workflow(name="onboarding", main_job=main)
"""

PERMISSION_TYPES = """
from stackflow.tailordb import db

ADMINS = [{"role": "ADMIN"}]
note = db.type(
    "Note",
    {"text": db.string()},
    permission={"create": ADMINS, "read": [{"role": "ADMIN"}, {"role": "VIEWER"}],
                "update": ADMINS, "delete": ADMINS},
)
"""

PERMISSION_FLOW = """
from stackflow import create_workflow, create_workflow_job
from stackflow.tailordb import get_db


def _act(input):
    db = get_db("tailordb")
    op = input["op"]
    if op == "create":
        return db.insert_into("Note").values({"text": "hi"}).execute()
    if op == "read":
        return len(db.select_from("Note").execute())
    if op == "update":
        return db.update_table("Note").set({"text": "new"}).execute()
    return db.delete_from("Note").where("text", "=", "none").execute()


act = create_workflow_job(name="act", body=_act)
workflow = create_workflow(name="notes", main_job=act)
"""


def _cli(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "STACKFLOW_CONFIG": str(config)}
    return subprocess.run(
        [sys.executable, "-m", "stackflow", *args],
        cwd=config.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_fetch_customer_returns_the_row_an_earlier_job_inserted_via_cli(
    make_project: MakeProject,
) -> None:
    config = make_project(workflows={"onboarding.py": ORDER_FLOW})
    arg = json.dumps({"name": "Ada", "email": "ada@example.com"})
    done = _cli(config, "workflow", "start", "onboarding", "-m", "admin", "-a", arg, "-W", "-j")
    assert done.returncode == 0, done.stderr
    execution = json.loads(done.stdout)
    assert execution["status"] == "SUCCESS"
    customer = execution["result"]["customer"]
    assert (customer["name"], customer["email"]) == ("Ada", "ada@example.com")
    assert customer["createdAt"].endswith("Z") and customer["updatedAt"] is None


def test_unique_violation_fails_the_job_with_a_clear_message(make_project: MakeProject) -> None:
    config = make_project(workflows={"onboarding.py": ORDER_FLOW})
    with Engine.from_config(config) as engine:
        arg = {"name": "Ada", "email": "ada@example.com"}
        assert engine.wait(engine.start("onboarding", arg, invoker="admin")).status == "SUCCESS"
        failed = engine.wait(engine.start("onboarding", arg, invoker="admin"))
    assert failed.status == "FAILED"
    assert failed.error is not None
    assert "unique violation" in failed.error["message"]
    assert "'Customer'" in failed.error["message"] and "'email'" in failed.error["message"]


@pytest.mark.parametrize("op", ["create", "read", "update", "delete"])
def test_permissions_allow_and_deny_per_operation(make_project: MakeProject, op: str) -> None:
    config = make_project(PERMISSION_TYPES, workflows={"notes.py": PERMISSION_FLOW})
    with Engine.from_config(config) as engine:
        admin = engine.wait(engine.start("notes", {"op": op}, invoker="admin"))
        viewer = engine.wait(engine.start("notes", {"op": op}, invoker="viewer"))
    assert admin.status == "SUCCESS", admin.error
    if op == "read":
        assert viewer.status == "SUCCESS", viewer.error
        return
    assert viewer.status == "FAILED"
    assert viewer.error is not None and viewer.error["type"] == "PermissionDenied"
    message = viewer.error["message"]
    assert f"may not {op} 'Note'" in message and "'viewer'" in message


def test_outside_executions_there_is_full_access(make_project: MakeProject) -> None:
    make_project(PERMISSION_TYPES)
    from stackflow.tailordb import get_db

    assert get_db("tailordb").insert_into("Note").values({"text": "x"}).execute() == 1


def test_transactional_job_on_another_database_is_a_load_error(
    make_project: MakeProject, tmp_path: Path
) -> None:
    other = f"sqlite:///{tmp_path / 'app.db'}"
    flow = ORDER_FLOW.replace(
        'name="create-customer", body=_create',
        'name="create-customer", body=_create, transactional=True',
    )
    config = make_project(
        workflows={"onboarding.py": flow},
        extra_toml="",
    )
    text = config.read_text().replace(
        'files = ["tailordb/*.py"]', f'files = ["tailordb/*.py"]\ndatabase = "{other}"'
    )
    config.write_text(text)
    project = load_project(config)
    messages = [str(b) for b in project.breaches]
    assert any("create-customer" in m and "not in the store's database" in m for m in messages), (
        messages
    )

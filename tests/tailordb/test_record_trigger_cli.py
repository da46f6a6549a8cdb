"""Record triggers seen from the command line: `check`, `trigger list`, and their breaches."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from tailordb_helpers import MakeProject

from stackflow.definitions.triggers import create_record_trigger
from stackflow.errors import DefinitionError

FLOW = """
from stackflow import create_record_trigger, create_workflow, create_workflow_job

note = create_workflow_job(name="note", body=lambda input: {"op": input["op"]})
workflow = create_workflow(name="noted", main_job=note)
big_spender = create_record_trigger(
    "big-spender",
    type="Customer",
    on=("update",),
    workflow=workflow,
    machine_user="admin",
    condition=lambda event: event["new"]["credit"] > 100,
)
every_write = create_record_trigger(
    "every-write", type="Customer", workflow=workflow, machine_user="admin"
)
"""


def stackflow(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("STACKFLOW_CONFIG",)}
    return subprocess.run(
        [sys.executable, "-m", "stackflow", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_check_and_trigger_list_show_the_triggers(make_project: MakeProject) -> None:
    root = make_project(workflows={"noted.py": FLOW}).parent
    text = stackflow(root, "check")
    assert text.returncode == 0, text.stderr
    assert text.stdout.splitlines() == [
        "OK: 1 workflow, 1 job, 2 record triggers",
        "  record trigger big-spender: Customer update starts noted as admin when its "
        "condition holds",
        "  record trigger every-write: Customer create, update, delete starts noted as admin",
    ]
    shaped = json.loads(stackflow(root, "check", "-j").stdout)
    assert shaped["triggers"] == [
        {
            "name": "big-spender",
            "type": "Customer",
            "on": ["update"],
            "workflow": "noted",
            "machineUser": "admin",
            "namespace": None,
            "condition": True,
        },
        {
            "name": "every-write",
            "type": "Customer",
            "on": ["create", "update", "delete"],
            "workflow": "noted",
            "machineUser": "admin",
            "namespace": None,
            "condition": False,
        },
    ]
    listed = stackflow(root, "trigger", "list", "-j")
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == shaped["triggers"]
    table = stackflow(root, "trigger", "list")
    assert "big-spender" in table.stdout and "create, update, delete" in table.stdout


def test_a_write_from_a_script_shows_in_workflow_executions(make_project: MakeProject) -> None:
    root = make_project(workflows={"noted.py": FLOW}).parent
    script = textwrap.dedent(
        """
        from stackflow.tailordb import get_db
        get_db("tailordb").insert_into("Customer").values(
            {"name": "Ada", "email": "ada@example.com"}
        ).execute()
        """
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    listed = stackflow(root, "workflow", "executions", "-n", "noted", "-j")
    [execution] = json.loads(listed.stdout)
    assert execution["status"] == "PENDING"
    assert execution["arg"]["op"] == "create" and execution["arg"]["new"]["name"] == "Ada"
    waited = stackflow(root, "workflow", "wait", execution["id"], "-j")
    assert waited.returncode == 0, waited.stderr
    assert json.loads(waited.stdout)["result"] == {"op": "create"}


BREACHES = {
    "record-trigger-type": (
        'typo = create_record_trigger("typo", type="Custmer", workflow=workflow, '
        'machine_user="admin")',
        "record trigger 'typo' watches type 'Custmer', which no TailorDB namespace declares",
    ),
    "record-trigger-machine-user": (
        'who = create_record_trigger("who", type="Customer", workflow=workflow, '
        'machine_user="nobody")',
        "record trigger 'who': unknown machine user 'nobody'",
    ),
    "unique-record-trigger-names": (
        'again = create_record_trigger("every-write", type="Customer", workflow=workflow, '
        'machine_user="admin")',
        "record trigger names must be unique: 'every-write' is defined at workflows/noted.py:",
    ),
}


@pytest.mark.parametrize("rule", sorted(BREACHES))
def test_trigger_breaches_are_reported_by_check(make_project: MakeProject, rule: str) -> None:
    line, message = BREACHES[rule]
    root = make_project(workflows={"noted.py": FLOW + line + "\n"}).parent
    result = stackflow(root, "check")
    assert result.returncode == 1
    [reported] = result.stderr.splitlines()
    assert reported.startswith("workflows/noted.py:") and reported.endswith(f"[{rule}]")
    assert message in reported


def test_a_trigger_on_a_namespace_with_its_own_database_is_a_breach(
    make_project: MakeProject, tmp_path: Path
) -> None:
    config = make_project(workflows={"noted.py": FLOW})
    other = f"sqlite:///{(tmp_path / 'other.db').as_posix()}"
    text = config.read_text().replace(
        '[db.tailordb]\nfiles = ["tailordb/*.py"]\n',
        f'[db.tailordb]\nfiles = ["tailordb/*.py"]\ndatabase = "{other}"\n',
    )
    config.write_text(text)
    result = stackflow(config.parent, "check", "-j")
    assert result.returncode == 1
    breaches = json.loads(result.stdout)
    assert [b["rule"] for b in breaches] == ["record-trigger-type"] * 2
    assert [b["line"] for b in breaches] == [6, 14]
    assert "lives in " + other in breaches[0]["message"]
    assert "cannot commit in one transaction" in breaches[0]["message"]


def test_definition_errors_name_the_trigger() -> None:
    from stackflow import create_workflow, create_workflow_job

    workflow = create_workflow(name="w", main_job=create_workflow_job(name="j", body=len))
    cases = [
        ({"on": ("create", "upsert")}, "on must name operations among"),
        ({"on": ()}, "on must name operations among"),
        ({"condition": "credit > 1"}, "condition must be a function of the event"),
        ({"args": {"a": 1}}, "args must be a function of the event"),
        ({"type": ""}, "type must be the name of a TailorDB type"),
        ({"workflow": "w"}, "workflow must be a Workflow"),
    ]
    for change, message in cases:
        options = {"type": "Customer", "workflow": workflow, **change}
        with pytest.raises(DefinitionError, match=message):
            create_record_trigger("t", **options)  # type: ignore[arg-type]
    with pytest.raises(DefinitionError, match="record trigger name 'Bad Name' is invalid"):
        create_record_trigger("Bad Name", type="Customer", workflow=workflow)

"""`stackflow check` run as a real command: breaches exit 1, bad configuration exits 2."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from stackflow.cli.main import main

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
HEADER = "from stackflow import create_workflow, create_workflow_job, workflow_job\n"


def write_project(root: Path, files: dict[str, str], toml: str = 'name = "t"\n') -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "stackflow.toml").write_text(toml, encoding="utf-8")
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(HEADER + textwrap.dedent(text), encoding="utf-8")
    return root / "stackflow.toml"


def run_stackflow(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("STACKFLOW_CONFIG", "STACKFLOW_DATABASE_URL")
    }
    return subprocess.run(
        [sys.executable, "-m", "stackflow", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


BREACHES = {
    "one-workflow-per-module": (
        {
            "workflows/flow.py": """\
                a = create_workflow_job(name="a", body=lambda: 1)
                first = create_workflow(name="first", main_job=a)
                second = create_workflow(name="second", main_job=a)
                """
        },
        ["workflows/flow.py:4", "'first'", "'second'"],
    ),
    "jobs-bound-at-module-level": (
        {
            "workflows/flow.py": """\
                def build():
                    inner = create_workflow_job(name="inner", body=lambda: 2)

                    @workflow_job("outer")
                    def outer(input):
                        return inner.trigger()

                    return outer

                outer = build()
                workflow = create_workflow(name="wf", main_job=outer)
                """
        },
        ["workflows/flow.py:3", "job 'inner'", "workflow 'wf'"],
    ),
    "unique-job-names": (
        {
            "workflows/a.py": 'add = create_workflow_job(name="add", body=lambda: 1)\n',
            "workflows/b.py": 'plus = create_workflow_job(name="add", body=lambda: 2)\n',
        },
        ["workflows/a.py:2", "workflows/b.py:2", "'add'"],
    ),
    "unique-job-names-attribute": (
        {
            "workflows/a.py": 'ab = create_workflow_job(name="a-b", body=lambda: 1)\n',
            "workflows/b.py": 'a_b = create_workflow_job(name="a_b", body=lambda: 2)\n',
        },
        ["workflows/a.py:2", "workflows/b.py:2", "'a-b'", "'a_b'"],
    ),
    "unique-workflow-names": (
        {
            "workflows/a.py": """\
                ja = create_workflow_job(name="ja", body=lambda: 1)
                workflow = create_workflow(name="orders", main_job=ja)
                """,
            "workflows/b.py": """\
                jb = create_workflow_job(name="jb", body=lambda: 1)
                workflow = create_workflow(name="orders", main_job=jb)
                """,
        },
        ["workflows/a.py:3", "workflows/b.py:3", "'orders'"],
    ),
    "main-job-required": (
        {"workflows/flow.py": 'workflow = create_workflow(name="x")\n'},
        ["workflows/flow.py:2", "main_job", "'x'"],
    ),
    "deps-are-job-objects": (
        {
            "workflows/flow.py": """\
                job = create_workflow_job(name="x", deps=["fetch-customer"], body=lambda: 1)
                """
        },
        ["workflows/flow.py:2", "'fetch-customer'", "pass the job object"],
    ),
}


@pytest.mark.parametrize("case", sorted(BREACHES))
def test_each_breach_exits_1_naming_file_and_object(tmp_path: Path, case: str) -> None:
    files, expected = BREACHES[case]
    write_project(tmp_path, files)
    result = run_stackflow(tmp_path, "check")
    assert result.returncode == 1, result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].endswith(f"[{case.removesuffix('-attribute')}]")
    for text in expected:
        assert text in lines[0]
    assert "Traceback" not in result.stderr


def test_every_breach_reported_at_once_as_json(tmp_path: Path) -> None:
    files = {**BREACHES["main-job-required"][0], **BREACHES["unique-job-names"][0]}
    files["workflows/deps.py"] = BREACHES["deps-are-job-objects"][0]["workflows/flow.py"]
    write_project(tmp_path, files)
    result = run_stackflow(tmp_path, "check", "-j")
    assert result.returncode == 1
    breaches = json.loads(result.stdout)
    assert [b["rule"] for b in breaches] == [
        "deps-are-job-objects",
        "main-job-required",
        "unique-job-names",
    ]
    assert [b["file"] for b in breaches] == [
        "workflows/deps.py",
        "workflows/flow.py",
        "workflows/b.py",
    ]
    assert set(breaches[0]) == {"rule", "message", "file", "line"}


def test_clean_project_exits_0(tmp_path: Path) -> None:
    project = tmp_path / "order"
    shutil.copytree(FIXTURES / "order_processing", project)
    result = run_stackflow(project, "check")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "OK: 1 workflow, 4 jobs\n"
    # the fixture's report job is reached by no workflow: a warning, not a breach
    assert result.stderr.splitlines() == [
        "workflows/jobs/send_notification.py:13: warning: job 'generate-report' is not reached "
        "by any workflow: no workflow's main job reaches it through deps or .trigger/.start "
        "calls [unreachable-job]"
    ]
    result = run_stackflow(project / "workflows", "check", "-j")
    assert result.returncode == 0, result.stderr
    shaped = json.loads(result.stdout)
    assert [(w["rule"], w["file"], w["line"]) for w in shaped.pop("warnings")] == [
        ("unreachable-job", "workflows/jobs/send_notification.py", 13)
    ]
    assert shaped == {"ok": True, "workflows": 1, "jobs": 4}


def test_config_option(tmp_path: Path) -> None:
    project = tmp_path / "order"
    shutil.copytree(FIXTURES / "order_processing", project)
    result = run_stackflow(tmp_path, "check", "-c", str(project / "stackflow.toml"))
    assert (result.returncode, result.stdout) == (0, "OK: 1 workflow, 4 jobs\n")


BAD_CONFIGS = {
    "missing": (None, "No stackflow.toml found in"),
    "syntax": ('name = "x"\n[workflow\n', "stackflow.toml: invalid TOML:"),
    "unknown-key": (
        '[workflow]\nfilez = ["a"]\n',
        "stackflow.toml: unknown key 'workflow.filez' (known: files, ignore)",
    ),
    "wrong-type": (
        "[workflow]\nfiles = 1\n",
        "stackflow.toml: 'workflow.files' must be a list of strings, got int",
    ),
    "no-match": (
        '[workflow]\nfiles = ["flows/*.py"]\n',
        "stackflow.toml: 'workflow.files' glob 'flows/*.py' matches no file",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_CONFIGS))
def test_bad_configuration_exits_2_with_one_line(tmp_path: Path, case: str) -> None:
    toml, expected = BAD_CONFIGS[case]
    if toml is not None:
        (tmp_path / "stackflow.toml").write_text(toml, encoding="utf-8")
    result = run_stackflow(tmp_path, "check")
    assert result.returncode == 2
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert expected in line
    assert "Traceback" not in result.stderr


def test_missing_config_file_given_with_c(tmp_path: Path) -> None:
    result = run_stackflow(tmp_path, "check", "-c", "nope.toml")
    assert result.returncode == 2
    assert result.stderr.splitlines() == ["Error: nope.toml: config file not found"]


def test_import_error_is_a_breach_with_its_line(tmp_path: Path) -> None:
    write_project(tmp_path, {"workflows/x.py": "\nvalue = foo\n"})
    result = run_stackflow(tmp_path, "check")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "workflows/x.py:3: cannot import: NameError: name 'foo' is not defined [importable-files]"
    ]


def test_other_commands_refuse_a_file_that_does_not_import(tmp_path: Path) -> None:
    write_project(tmp_path, {"workflows/x.py": "\nvalue = foo\n"})
    result = run_stackflow(tmp_path, "workflow", "list")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "Error: workflows/x.py: cannot import: NameError: name 'foo' is not defined (line 3)"
    ]


def test_main_in_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("STACKFLOW_CONFIG", raising=False)
    path = write_project(tmp_path, BREACHES["main-job-required"][0])
    assert main(["check", "-c", str(path)]) == 1
    assert "main_job" in capsys.readouterr().err
    (tmp_path / "workflows" / "flow.py").write_text(
        HEADER
        + 'j = create_workflow_job(name="j", body=len)\nworkflow = create_workflow("w", j)\n',
        encoding="utf-8",
    )
    assert main(["check", "-c", str(path)]) == 0
    assert capsys.readouterr().out == "OK: 1 workflow, 1 job\n"


WEBHOOK_PROJECT = {
    "workflows/flow.py": """\
        from stackflow import create_webhook

        j = create_workflow_job(name="j", body=lambda: 1)
        workflow = create_workflow(name="orders", main_job=j)
        order_hook = create_webhook(
            "order-hook", workflow=workflow, machine_user="admin", secret_env="ORDER_HOOK_SECRET"
        )
        """
}
ADMIN = 'name = "t"\n[machine_users.admin]\nattributes = { role = "ADMIN" }\n'


def test_check_lists_webhooks(tmp_path: Path) -> None:
    write_project(tmp_path, WEBHOOK_PROJECT, ADMIN)
    result = run_stackflow(tmp_path, "check")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "OK: 1 workflow, 1 job, 1 webhook",
        "  webhook order-hook: POST /hooks/order-hook starts orders "
        "(secret from $ORDER_HOOK_SECRET, not set)",
    ]
    result = run_stackflow(tmp_path, "check", "-j")
    assert json.loads(result.stdout) == {
        "ok": True,
        "workflows": 1,
        "jobs": 1,
        "webhooks": [
            {
                "name": "order-hook",
                "path": "/hooks/order-hook",
                "workflow": "orders",
                "machineUser": "admin",
                "secretEnv": "ORDER_HOOK_SECRET",
                "secretSet": False,
            }
        ],
    }


WEBHOOK_BREACHES = {
    "unknown machine user": (
        'create_webhook("h", workflow=workflow, machine_user="root", secret_env="S")',
        "webhook-machine-user",
        "unknown machine user 'root'. Known machine users: admin",
    ),
    "missing machine user": (
        'create_webhook("h", workflow=workflow, secret_env="S")',
        "webhook-machine-user",
        "needs machine_user=...",
    ),
    "bad name": (
        'create_webhook("Order Hook", workflow=workflow, machine_user="admin", secret_env="S")',
        "valid-definition",
        "webhook name 'Order Hook' is invalid",
    ),
    "not a workflow": (
        'create_webhook("h", workflow=j, machine_user="admin", secret_env="S")',
        "valid-definition",
        "workflow must be a Workflow",
    ),
    "bad variable": (
        'create_webhook("h", workflow=workflow, machine_user="admin", secret_env="A-B")',
        "valid-definition",
        "secret_env must name an environment variable",
    ),
}


@pytest.mark.parametrize("case", sorted(WEBHOOK_BREACHES))
def test_webhook_breaches(tmp_path: Path, case: str) -> None:
    call, rule, text = WEBHOOK_BREACHES[case]
    source = (
        "from stackflow import create_webhook\n"
        'j = create_workflow_job(name="j", body=lambda: 1)\n'
        'workflow = create_workflow(name="orders", main_job=j)\n'
        f"hook = {call}\n"
    )
    write_project(tmp_path, {"workflows/flow.py": source}, ADMIN)
    result = run_stackflow(tmp_path, "check", "-j")
    assert result.returncode == 1, result.stderr
    [breach] = json.loads(result.stdout)
    assert breach["rule"] == rule
    assert text in breach["message"]
    assert (breach["file"], breach["line"]) == ("workflows/flow.py", 5)


def test_two_webhooks_with_one_name(tmp_path: Path) -> None:
    hook = 'create_webhook("h", workflow=workflow, machine_user="admin", secret_env="S")'
    source = (
        "from stackflow import create_webhook\n"
        'j = create_workflow_job(name="j", body=lambda: 1)\n'
        'workflow = create_workflow(name="orders", main_job=j)\n'
        f"first = {hook}\nsecond = {hook}\n"
    )
    write_project(tmp_path, {"workflows/flow.py": source}, ADMIN)
    result = run_stackflow(tmp_path, "check")
    assert result.returncode == 1
    [line] = result.stderr.splitlines()
    assert line.startswith("workflows/flow.py:6: webhook names must be unique: 'h' is defined at ")
    assert "workflows/flow.py:5 and workflows/flow.py:6" in line
    assert line.endswith("[unique-webhook-names]")

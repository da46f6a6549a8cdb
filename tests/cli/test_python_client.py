"""The Python client from a user's script: workflow.trigger and Engine.from_config."""

from __future__ import annotations

import subprocess
import sys

from commands import command_env

SCRIPT = """
from workflows.order_processing import workflow
from stackflow import Engine

execution_id = workflow.trigger({"orderId": "o7", "customerId": "c7"}, invoker="admin")
engine = Engine.from_config()
execution = engine.wait(execution_id)
print(execution.status, execution.result["customerEmail"], execution.invoker["id"])
print(len(engine.list_executions(status="SUCCESS")))
"""


def test_workflow_trigger_uses_the_project_found_from_here(project):
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=project,
        env=command_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["SUCCESS", "c7@example.com", "admin", "1"]


def test_stackflow_config_names_the_project(project, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    script = SCRIPT.replace(
        "from workflows.order_processing import workflow",
        f"import sys; sys.path.insert(0, {str(project)!r})\n"
        "from workflows.order_processing import workflow",
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=elsewhere,
        env=command_env(STACKFLOW_CONFIG=str(project / "stackflow.toml")),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[0] == "SUCCESS"

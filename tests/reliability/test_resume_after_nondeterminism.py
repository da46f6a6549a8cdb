"""A resume after a non-determinism failure runs the failed child again."""

from __future__ import annotations

from pathlib import Path

from commands import stackflow
from reliability_kit import write_project

FLOW = """
from pathlib import Path

from stackflow import create_workflow, create_workflow_job

def _flaky(input):
    if Path("broken").exists():
        raise RuntimeError("the first attempt broke")
    return {"fixed": True}

def _other(input):
    return {"other": True}

flaky = create_workflow_job(name="flaky", body=_flaky)
other = create_workflow_job(name="other", body=_other)

def _main(input, ctx):
    return ctx.jobs.CALLED({})

main = create_workflow_job(name="main", body=_main, deps=[flaky, other])
workflow = create_workflow(name="repair", main_job=main)
"""


def _use(root: Path, called: str) -> None:
    (root / "workflows" / "repair.py").write_text(FLOW.replace("CALLED", called))


def test_resume_after_nondeterminism_runs_the_failed_child_again(
    tmp_path: Path, store_url: str
) -> None:
    root = write_project(tmp_path, store_url, {"repair.py": FLOW.replace("CALLED", "flaky")})
    (root / "broken").touch()
    first = stackflow(root, "workflow", "start", "repair", "-m", "admin", "-a", "{}", "-W", "-j")
    assert first.code == 1 and first.json()["status"] == "FAILED", first.stderr
    execution_id = first.json()["id"]

    _use(root, "other")  # a code change: the replay now calls another job at that position
    changed = stackflow(root, "workflow", "resume", execution_id, "-W", "-j")
    assert changed.code == 1, changed.stderr
    assert "non-determinism" in changed.json()["error"]["message"]

    _use(root, "flaky")  # the change reverted, and the cause of the first failure gone
    (root / "broken").unlink()
    fixed = stackflow(root, "workflow", "resume", execution_id, "-W", "-j")

    assert fixed.code == 0, fixed.json()["error"]
    assert fixed.json()["status"] == "SUCCESS"
    assert fixed.json()["result"] == {"fixed": True}

"""A depth-limit failure is readable and its record stays small."""

from __future__ import annotations

import json
from pathlib import Path

from commands import stackflow
from reliability_kit import write_project

DIVE = """
from stackflow import create_workflow, create_workflow_job

def _dive(input):
    return dive.trigger({"depth": input.get("depth", 0) + 1})

dive = create_workflow_job(name="dive", body=_dive)
workflow = create_workflow(name="dive", main_job=dive)
"""

ERROR_BYTES = 32_000
ALL_JOB_ERRORS_BYTES = 1_000_000


def test_a_depth_limit_failure_says_once_where_it_went_too_deep(
    tmp_path: Path, store_url: str
) -> None:
    root = write_project(tmp_path, store_url, {"dive.py": DIVE})

    done = stackflow(root, "workflow", "start", "dive", "-m", "admin", "-W", "-l", "-j")

    assert done.code == 1, done.stderr
    shown = done.json()
    error = shown["error"]
    assert error["message"].count("JobFailed") <= 1, error["message"][:500]
    assert "64" in error["message"]
    assert len(json.dumps(error)) < ERROR_BYTES
    job_errors = [job["error"] for job in shown["jobDetails"] if job["error"]]
    assert len(json.dumps(job_errors)) < ALL_JOB_ERRORS_BYTES

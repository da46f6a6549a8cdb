"""A job whose outcome cannot be recorded ends FAILED instead of running forever."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from commands import stackflow, wait_until
from reliability_kit import Workers, write_project

COMMON = """
import os
from pathlib import Path

from stackflow import create_workflow, create_workflow_job


class Unprintable(Exception):
    def __str__(self):
        raise RuntimeError("no text for you")


def _body(input):
    with open(Path(os.environ["POISON_MARKS"]) / KIND, "a") as marks:
        marks.write("ran\\n")
    BODY


job = create_workflow_job(name=KIND, body=_body)
workflow = create_workflow(name=f"poison-{KIND}", main_job=job)
"""

BODIES = {
    "unprintable": "raise Unprintable()",
    "surrogate-result": 'return {"text": "\\ud800"}',
    "surrogate-message": 'raise ValueError("bad \\ud800 text")',
    "keyboard-interrupt": "raise KeyboardInterrupt()",
    "system-exit": "raise SystemExit(3)",
}

KINDS = {
    "unprintable": "unprintable exception",
    "surrogate-result": "not valid UTF-8",
    "surrogate-message": "ValueError",
    "keyboard-interrupt": "KeyboardInterrupt",
    "system-exit": "SystemExit(3) raised by the job",
}

LEASE_SECONDS = 1.0


def _project(root: Path, url: str) -> Path:
    flows = {
        f"{kind.replace('-', '_')}.py": f"KIND = {kind!r}\n" + COMMON.replace("BODY", body)
        for kind, body in BODIES.items()
    }
    write_project(root, url, flows, f"[engine]\nlease_seconds = {LEASE_SECONDS}\n")
    (root / "marks").mkdir()
    return root


def _env(root: Path) -> dict[str, str]:
    return {"POISON_MARKS": str(root / "marks")}


def _runs(root: Path, kind: str) -> int:
    path = root / "marks" / kind
    return len(path.read_text().splitlines()) if path.exists() else 0


def _execution(root: Path, execution_id: str) -> dict[str, object]:
    done = stackflow(root, "workflow", "executions", execution_id, "-j", **_env(root))
    assert done.code == 0, done.stderr
    shown: dict[str, object] = done.json()
    return shown


@pytest.mark.parametrize("kind", list(KINDS))
def test_waiting_on_a_poison_job_fails_it_with_its_error(
    tmp_path: Path, store_url: str, kind: str
) -> None:
    root = _project(tmp_path, store_url)

    done = stackflow(
        root, "workflow", "start", f"poison-{kind}", "-m", "admin", "-W", "-j", **_env(root)
    )

    found = re.search(r"Execution ID: (\S+)", done.stderr)
    assert found, done.stderr
    assert "Traceback" not in done.stderr
    assert done.code == 1, done.stderr
    execution = _execution(root, found.group(1))
    assert execution["status"] == "FAILED"
    error = execution["error"]
    assert isinstance(error, dict) and KINDS[kind] in f"{error['type']}: {error['message']}"
    assert _runs(root, kind) == 1


@pytest.mark.slow
def test_a_worker_runs_a_poison_job_once(tmp_path: Path, store_url: str, workers: Workers) -> None:
    root = _project(tmp_path, store_url)
    started = {}
    for kind in KINDS:
        done = stackflow(root, "workflow", "start", f"poison-{kind}", "-m", "admin", "-j")
        assert done.code == 0, done.stderr
        started[kind] = done.json()["executionId"]
    worker = workers.start(root, **_env(root))

    wait_until(lambda: all(_runs(root, kind) for kind in KINDS), 30.0, "every poison job to run")
    time.sleep(4 * LEASE_SECONDS)  # long enough for a lost lease to be claimed again

    statuses = {kind: _execution(root, started[kind])["status"] for kind in KINDS}
    assert statuses == dict.fromkeys(KINDS, "FAILED")
    assert {kind: _runs(root, kind) for kind in KINDS} == dict.fromkeys(KINDS, 1)
    assert worker.process.poll() is None, worker.text()
    assert "Traceback" not in worker.text()

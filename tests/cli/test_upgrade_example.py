"""The worked upgrade example of docs/workflows.md, run through the CLI (both backends):
executions wait, the workflow changes under `ctx.patched`, old ones finish on the old
path and new ones on the new path, and `check --replay` is clean before and after."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cli_helpers import Run

DOC = Path(__file__).resolve().parents[2] / "docs" / "workflows.md"
SECTION = "## Upgrading a workflow while executions wait"
PATCHED_LINE = 'if ctx.patched("fraud-check"):'
APPROVE = ("manager-approval", "-a", '{"approved": true}')


def _section() -> str:
    return DOC.read_text(encoding="utf-8").split(SECTION, 1)[1]


def _block(first_line: str) -> str:
    """The code block of the section whose first line is `first_line`."""
    for block in _section().split("```")[1::2]:
        body = block.split("\n", 1)[1]
        if body.startswith(first_line):
            return body
    raise AssertionError(f"no code block starting with {first_line!r} in {DOC}")


def _start(run: Run, amount: int) -> dict[str, Any]:
    done = run("workflow", "start", "refund", "-m", "admin", "-a", json.dumps({"amount": amount}),
               "-W", "-l", "-j")  # fmt: skip
    assert done.code == 0, done.stderr
    shown: dict[str, Any] = done.json()
    assert shown["status"] == "WAITING"
    return shown


def _replay(run: Run) -> tuple[int, Any]:
    done = run("check", "--replay", "-j")
    return done.code, done.json()


def _jobs(shown: dict[str, Any]) -> list[str]:
    return sorted({job["stackedJobName"] for job in shown["jobDetails"]})


def test_the_upgrade_example_runs(run: Run, project: Path) -> None:
    code = project / "workflows" / "refunds.py"
    before = _block("# workflows/refunds.py, before the change")
    after = _block("# workflows/refunds.py, after the change")
    assert PATCHED_LINE in after

    code.write_text(before)
    old = [_start(run, 120), _start(run, 80)]
    assert _replay(run) == (0, [])

    code.write_text(after.replace(PATCHED_LINE, "if True:"))  # the change without ctx.patched
    status, findings = _replay(run)
    assert status == 1
    assert sorted(f["executionId"] for f in findings) == sorted(e["id"] for e in old)
    for finding in findings:
        assert finding["stackedJobName"] == "refund"
        assert finding["message"].startswith(
            "non-determinism in job 'refund' at call #1: the recorded call was wait point "
            "'manager-approval', the replay called check-fraud({\"amount\":"
        )
    shown = run("check", "--replay").stdout
    documented = _block("Replay: ").splitlines()
    assert documented[0] in shown
    assert documented[2].strip().split("{")[0] in shown  # the message, as the doc shows it

    code.write_text(after)
    assert _replay(run) == (0, [])
    new = _start(run, 300)
    assert _jobs(new) == ["refund", "refund/check-fraud"]
    resolved = run("workflow", "resolve", old[0]["id"], *APPROVE)
    assert resolved.code == 0, resolved.stderr
    assert _replay(run) == (0, [])  # one old and one new refund still wait

    for execution in (old[1], new):
        assert run("workflow", "resolve", execution["id"], *APPROVE).code == 0
    finished = [run("workflow", "wait", e["id"], "-l", "-j").json() for e in (*old, new)]
    assert [e["status"] for e in finished] == ["SUCCESS"] * 3
    assert [e["result"]["paid"] for e in finished] == [120, 80, 300]
    assert _jobs(finished[0]) == _jobs(finished[1]) == ["refund", "refund/pay-refund"]
    assert _jobs(finished[2]) == ["refund", "refund/check-fraud", "refund/pay-refund"]
    assert _replay(run) == (0, [])

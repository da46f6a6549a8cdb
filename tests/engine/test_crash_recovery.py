"""A process killed with SIGKILL mid-job: another process takes the execution over."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

FLOW = textwrap.dedent(
    """
    import os
    import time
    from pathlib import Path

    from stackflow import create_workflow, create_workflow_job

    MARKS = Path(os.environ["KILLFLOW_DIR"])


    def step(input):
        with open(MARKS / f"step-{input['i']}.runs", "a") as runs:
            runs.write("x")
        if input["i"] == 2 and os.environ.get("KILLFLOW_HANG"):
            (MARKS / "hanging").write_text(str(os.getpid()))
            time.sleep(120)
        return {"i": input["i"]}


    step_job = create_workflow_job(name="step", body=step)


    def main(input, ctx):
        return [ctx.jobs.step({"i": i})["i"] for i in range(4)]


    workflow = create_workflow(
        name="kill-me", main_job=create_workflow_job(name="main", body=main, deps=[step_job])
    )
    """
)

RUNNER = textwrap.dedent(
    """
    import sys
    from stackflow import Engine
    from killflow import workflow

    engine = Engine(sys.argv[1], [workflow], lease_seconds=1.0)
    execution_id = engine.start(workflow, {})
    print(execution_id, flush=True)
    engine.wait(execution_id, run_here=True)
    """
)


def _runs(marks: Path) -> dict[str, int]:
    return {p.stem: len(p.read_text()) for p in sorted(marks.glob("*.runs"))}


def test_sigkill_mid_child_is_taken_over_and_only_that_child_reruns(
    tmp_path, store_url, monkeypatch
):
    (tmp_path / "killflow.py").write_text(FLOW)
    marks = tmp_path / "marks"
    marks.mkdir()
    env = {
        **os.environ,
        "KILLFLOW_DIR": str(marks),
        "KILLFLOW_HANG": "1",
        "PYTHONPATH": str(tmp_path),
    }
    victim = subprocess.Popen(
        [sys.executable, "-c", RUNNER, store_url], stdout=subprocess.PIPE, text=True, env=env
    )
    execution_id = victim.stdout.readline().strip()
    deadline = time.monotonic() + 30
    while not (marks / "hanging").exists():
        assert time.monotonic() < deadline, "the job never started"
        time.sleep(0.05)
    time.sleep(1.2)  # let the heartbeat record the running job
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    victim.stdout.close()

    monkeypatch.setenv("KILLFLOW_DIR", str(marks))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "killflow", raising=False)  # a fresh MARKS per backend
    from killflow import workflow  # type: ignore[import-not-found]

    from stackflow.engine.engine import Engine

    with Engine(store_url, [workflow], lease_seconds=1.0) as engine:
        before = engine.get_execution(execution_id)
        assert before.status == "RUNNING"
        assert [j.stacked_job_name for j in before.job_executions if j.status == "SUCCESS"] == [
            "main/step",
            "main/step",
        ]
        done = engine.wait(execution_id, timeout=30)
    assert done.status == "SUCCESS"
    assert done.result == [0, 1, 2, 3]
    assert _runs(marks) == {"step-0": 1, "step-1": 1, "step-2": 2, "step-3": 1}
    lost = [j for j in done.job_executions if j.error and j.error["type"] == "stackflow.WorkerLost"]
    assert {j.stacked_job_name for j in lost} == {"main", "main/step"}
    assert all(j.status == "FAILED" for j in lost)
    attempts = [(j.stacked_job_name, j.input, j.attempt, j.status) for j in done.job_executions]
    assert ("main/step", {"i": 2}, 2, "SUCCESS") in attempts
    assert ("main", {}, 2, "SUCCESS") in attempts

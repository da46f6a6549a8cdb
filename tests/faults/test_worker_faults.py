"""Workers really killed (SIGKILL) or paused (SIGSTOP): another worker finishes, exactly once."""

from __future__ import annotations

import signal
import time

import pytest
from commands import wait_until
from faultkit import one_success_per_call_path

pytestmark = pytest.mark.slow

LEASE_SECONDS = 2.0
TAKEOVER_SECONDS = 30.0


def test_a_worker_killed_mid_job_is_taken_over(store_url, fault_project):
    project = fault_project(store_url, LEASE_SECONDS)
    victim = project.start_worker(concurrency=1)
    with project.engine() as engine:
        execution_id = engine.start("faults", {"steps": 4, "hang_step": 2, "hang_seconds": 120})
        wait_until(project.hanging, TAKEOVER_SECONDS, "step 2 to start")
        time.sleep(1.2)  # a heartbeat records the running jobs
        project.kill(victim)
        killed_at = time.monotonic()
        rescuer = project.start_worker(concurrency=1)
        wait_until(
            lambda: engine.get_execution(execution_id).status == "SUCCESS",
            TAKEOVER_SECONDS,
            "the execution to finish on the other worker",
        )
        print(f"takeover: {time.monotonic() - killed_at:.2f}s after SIGKILL")
        done = engine.get_execution(execution_id)
        assert done.result == [0, 1, 2, 3]
        runs = project.runs()
        assert {key.split("/")[1]: pids for key, pids in runs.items()} == {
            "0": [victim.pid],
            "1": [victim.pid],
            "2": [victim.pid, rescuer.pid],
            "3": [rescuer.pid],
        }
        lost = {
            j.stacked_job_name
            for j in done.job_executions
            if j.error and j.error["type"] == "stackflow.WorkerLost"
        }
        assert lost == {"main", "main/step"}
        assert one_success_per_call_path(engine, execution_id)


def test_a_paused_worker_s_late_writes_are_refused(store_url, fault_project):
    project = fault_project(store_url, LEASE_SECONDS)
    paused = project.start_worker(concurrency=1)
    with project.engine() as engine:
        execution_id = engine.start("faults", {"steps": 3, "hang_step": 1, "hang_seconds": 3})
        wait_until(project.hanging, TAKEOVER_SECONDS, "step 1 to start")
        paused.signal(signal.SIGSTOP)
        rescuer = project.start_worker(concurrency=1)
        wait_until(
            lambda: engine.get_execution(execution_id).status == "SUCCESS",
            TAKEOVER_SECONDS,
            "the execution to finish under the new owner",
        )
        finished = engine.get_execution(execution_id)

        paused.signal(signal.SIGCONT)  # its step 1 finishes now, long after its lease ended
        wait_until(
            lambda: "LEASE LOST" in paused.text(), TAKEOVER_SECONDS, "the late write refused"
        )
        assert engine.get_execution(execution_id) == finished
        assert paused.process.poll() is None, "the paused worker carries on"
        runs = {key.split("/")[1]: pids for key, pids in project.runs().items()}
        assert runs == {"0": [paused.pid], "1": [paused.pid, rescuer.pid], "2": [rescuer.pid]}
        assert finished.result == [0, 1, 2]
        assert one_success_per_call_path(engine, execution_id)
        mains = [j for j in finished.job_executions if j.stacked_job_name == "main"]
        assert [j.status for j in mains].count("SUCCESS") == 1

"""Many workers on one PostgreSQL: random SIGKILLs, and the server restarted under them."""

from __future__ import annotations

import os
import random
import subprocess
import time
from pathlib import Path

import pytest
from commands import wait_until
from faultkit import FaultProject, Worker, one_success_per_call_path

from stackflow.engine.engine import Engine

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

LEASE_SECONDS = 3.0
FINISH_SECONDS = 150.0
STATE_ENV = "STACKFLOW_TEST_POSTGRES_STATE"


def _done(engine: Engine) -> int:
    return len(engine.list_executions(status="SUCCESS"))


def _start(project: FaultProject, count: int, **arg: object) -> list[str]:
    with project.engine() as engine:
        return [engine.start("faults", {"steps": 3, **arg}) for _ in range(count)]


def _check_all_succeeded(project: FaultProject, ids: list[str]) -> None:
    with project.engine() as engine:
        statuses = {e.id: str(e.status) for e in engine.list_executions()}
        assert {statuses[i] for i in ids} == {"SUCCESS"}, "every execution ends SUCCESS"
        for execution_id in ids:
            assert engine.get_execution(execution_id).result == [0, 1, 2]
            assert one_success_per_call_path(engine, execution_id)
    runs = project.runs()
    assert {key.split("/")[0] for key in runs} == set(ids)
    assert all(len({key for key in runs if key.startswith(i)}) == 3 for i in ids)


def test_random_kills_of_three_workers_lose_nothing(postgres_url, fault_project):
    project = fault_project(postgres_url, LEASE_SECONDS)
    workers = [project.start_worker(concurrency=4) for _ in range(3)]
    ids = _start(project, 300, work=0.15)
    chance = random.Random(os.getpid())
    deadline = time.monotonic() + FINISH_SECONDS
    kills = 0
    with project.engine() as engine:
        while _done(engine) < len(ids) and kills < 10:
            assert time.monotonic() < deadline, "executions stuck while killing workers"
            time.sleep(chance.uniform(0.3, 1.0))
            slot = chance.randrange(len(workers))
            project.kill(workers[slot])
            kills += 1
            workers[slot] = project.start_worker(concurrency=4)
        wait_until(
            lambda: _done(engine) == len(ids),
            max(1.0, deadline - time.monotonic()),
            "every execution to finish",
        )
    print(f"{kills} workers killed during the run")
    assert kills >= 3, "the run was too short to kill workers during it"
    _check_all_succeeded(project, ids)
    project.assert_finished_jobs_ran_once()


def _restart_server() -> None:
    state_file = os.environ.get(STATE_ENV)
    if not state_file:
        if os.environ.get("CI", "").lower() in ("true", "1"):
            pytest.fail(f"{STATE_ENV} is not set: run the suite with scripts/test")
        pytest.skip(f"{STATE_ENV} is not set: the test server cannot be restarted")
    state = dict(
        line.split("=", 1) for line in Path(state_file).read_text().splitlines() if "=" in line
    )
    command = [
        f"{state['bin_dir']}/pg_ctl",
        "-D",
        state["data_dir"],
        "-l",
        f"{state['dir']}/server.log",
        "-w",
        "-m",
        "fast",
        "restart",
    ]
    if os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    subprocess.run(command, check=True, capture_output=True, timeout=60)


def _alive(workers: list[Worker]) -> bool:
    return all(worker.process.poll() is None for worker in workers)


def test_workers_carry_on_after_the_server_restarts(postgres_url, fault_project):
    project = fault_project(postgres_url, LEASE_SECONDS)
    workers = [project.start_worker(concurrency=4) for _ in range(3)]
    ids = _start(project, 150, work=0.05)
    with project.engine() as engine:
        wait_until(lambda: _done(engine) >= 20, FINISH_SECONDS, "the first executions")
        _restart_server()
        restarted_at = time.monotonic()
        assert _done(engine) < len(ids), "the restart came after the run"
        wait_until(
            lambda: _done(engine) == len(ids),
            FINISH_SECONDS,
            "every execution to finish after the restart",
        )
    print(f"all done {time.monotonic() - restarted_at:.1f}s after the restart")
    assert _alive(workers), "\n".join(w.text()[-2000:] for w in workers)
    _check_all_succeeded(project, ids)

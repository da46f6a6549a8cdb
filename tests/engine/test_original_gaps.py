"""Behaviours of the TypeScript original: the default cap of 20 running executions per workflow,
`wait(until=...)`, job executions stopped by a cancel recorded CANCELED, and a wait that gives
up releasing what it ran."""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest

from stackflow import JobStatus, create_workflow, create_workflow_job
from stackflow.config import DEFAULT_MAX_CONCURRENT_PER_WORKFLOW
from stackflow.errors import InvalidArgument, WaitTimeout


def _statuses(engine, workflow_name: str) -> Counter[str]:
    return Counter(str(e.status) for e in engine.list_executions(workflow_name))


def test_a_workflow_without_a_policy_runs_at_most_20_at_once(make_engine):
    release = threading.Event()
    hold = create_workflow_job(name="hold", body=lambda input: release.wait(30) and input)
    workflow = create_workflow(name="uncapped-by-policy", main_job=hold)
    engine = make_engine(workflow)
    total = DEFAULT_MAX_CONCURRENT_PER_WORKFLOW + 5
    for n in range(total):
        engine.start(workflow, {"n": n})
    runner = threading.Thread(target=engine.run_pending, kwargs={"concurrency": total})
    runner.start()
    try:
        deadline = time.monotonic() + 30
        while _statuses(engine, workflow.name)["RUNNING"] < 20 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)  # room for a 21st claim, were the cap not there
        assert _statuses(engine, workflow.name) == Counter({"RUNNING": 20, "PENDING": 5})
    finally:
        release.set()
        runner.join(60)
    assert _statuses(engine, workflow.name) == Counter({"SUCCESS": total})


def _slow_chain(started: threading.Event, release: threading.Event):
    def step(input):
        if input["i"] == 0:
            started.set()
            release.wait(20)
        return input

    step_job = create_workflow_job(name="step", body=step)

    def main(input, ctx):
        return [ctx.jobs.step({"i": i}) for i in range(3)]

    main_job = create_workflow_job(name="main", body=main, deps=[step_job])
    return create_workflow(name="slow-chain", main_job=main_job)


def test_a_job_stopped_by_a_cancel_is_canceled(make_engine):
    started, release = threading.Event(), threading.Event()
    workflow = _slow_chain(started, release)
    engine = make_engine(workflow)
    execution_id = engine.start(workflow)
    runner = threading.Thread(target=engine.run_execution, args=(execution_id,))
    runner.start()
    assert started.wait(10)
    engine.cancel(execution_id)
    time.sleep(1.5)  # the heartbeat sees the request
    release.set()
    runner.join(20)
    done = engine.get_execution(execution_id)
    assert done.status == "CANCELED"
    jobs = [(j.stacked_job_name, j.status) for j in done.job_executions]
    assert jobs == [("main", JobStatus.CANCELED), ("main/step", JobStatus.SUCCESS)]
    main = done.job_executions[0]
    assert main.finished_at is not None
    assert main.error == {"type": "Canceled", "message": "the execution was canceled"}


def test_wait_until_returns_at_the_status_and_gives_the_execution_back(make_engine):
    started, release = threading.Event(), threading.Event()
    workflow = _slow_chain(started, release)
    engine = make_engine(workflow)
    execution_id = engine.start(workflow)
    running = engine.wait(execution_id, until="running", timeout=20)
    assert running.status == "RUNNING"
    assert engine.heartbeat.held_leases() == []  # given back at once: any worker continues
    assert engine.get_execution(execution_id).status == "PENDING_RESUME"
    release.set()
    assert engine.wait(execution_id, until=["SUCCESS"], timeout=20).status == "SUCCESS"
    assert engine.wait(execution_id, until="WAITING,PENDING").status == "SUCCESS"  # settled
    with pytest.raises(InvalidArgument, match=r"Invalid status: DONE\. Valid values: PENDING, "):
        engine.wait(execution_id, until="DONE")


def test_a_wait_that_times_out_gives_the_execution_back_at_once(make_engine):
    started, release = threading.Event(), threading.Event()
    workflow = _slow_chain(started, release)
    engine = make_engine(workflow)  # leases of 15 s: the next wait must not sit them out
    execution_id = engine.start(workflow)
    with pytest.raises(WaitTimeout):
        engine.wait(execution_id, timeout=0.5, run_here=True)
    assert engine.get_execution(execution_id).status == "PENDING_RESUME"
    release.set()
    began = time.monotonic()
    assert engine.wait(execution_id, timeout=10, run_here=True).status == "SUCCESS"
    assert time.monotonic() - began < 10

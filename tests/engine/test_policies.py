"""Cancel, retry policies, job timeouts and concurrency caps."""

from __future__ import annotations

import re
import threading
import time
from collections import Counter

import pytest

from stackflow import (
    ConcurrencyPolicy,
    NotCancelable,
    NotResumable,
    RetryPolicy,
    create_workflow,
    create_workflow_job,
)
from stackflow.errors import DefinitionError
from stackflow.testing import run_workflow


def _slow_chain(started: threading.Event, release: threading.Event, runs: Counter[str]):
    def step(input):
        runs[f"step-{input['i']}"] += 1
        if input["i"] == 0:
            started.set()
            release.wait(10)
        return input

    step_job = create_workflow_job(name="step", body=step)

    def main(input, ctx):
        return [ctx.jobs.step({"i": i}) for i in range(3)]

    return create_workflow(
        name="slow-chain", main_job=create_workflow_job(name="main", body=main, deps=[step_job])
    )


def test_cancel_pending_and_waiting_at_once(make_engine):
    workflow = _slow_chain(threading.Event(), threading.Event(), Counter())
    engine = make_engine(workflow)
    pending = engine.start(workflow)
    assert engine.cancel(pending) == "CANCELED"
    canceled = engine.get_execution(pending)
    assert canceled.status == "CANCELED" and canceled.finished_at is not None
    with pytest.raises(NotResumable):
        engine.resume(pending)
    with pytest.raises(
        NotCancelable, match=re.escape(f"Execution '{pending}' cannot be canceled: it is CANCELED.")
    ):
        engine.cancel(pending)
    assert engine.wait(pending).status == "CANCELED"

    sleeper = create_workflow(
        name="sleeper",
        main_job=create_workflow_job(name="nap", body=lambda input, ctx: ctx.sleep(60)),
    )
    waiting = engine.start(sleeper)
    engine.run_execution(waiting)
    assert engine.get_execution(waiting).status == "WAITING"
    assert engine.cancel(waiting) == "CANCELED"
    assert engine.get_execution(waiting).status == "CANCELED"


def test_cancel_running_stops_at_the_next_job_boundary(make_engine):
    started, release, runs = threading.Event(), threading.Event(), Counter()
    workflow = _slow_chain(started, release, runs)
    engine = make_engine(workflow)
    execution_id = engine.start(workflow)
    runner = threading.Thread(target=engine.run_execution, args=(execution_id,))
    runner.start()
    assert started.wait(10)
    assert engine.cancel(execution_id) == "RUNNING"
    time.sleep(1.5)  # the heartbeat sees the request
    release.set()
    runner.join(10)
    done = engine.get_execution(execution_id)
    assert done.status == "CANCELED"
    assert runs == Counter({"step-0": 1})  # the running job finished, nothing new started
    statuses = [(j.stacked_job_name, str(j.status)) for j in done.job_executions]
    assert ("main/step", "SUCCESS") in statuses
    assert ("main", "CANCELED") in statuses
    with pytest.raises(NotResumable):
        engine.resume(execution_id)


def test_cancel_unknown_and_finished(make_engine):
    from stackflow import ExecutionNotFound

    workflow = _slow_chain(threading.Event(), threading.Event(), Counter())
    engine = make_engine(workflow)
    with pytest.raises(ExecutionNotFound):
        engine.cancel("nope")


def _flaky_workflow(failures: int, runs: Counter[str], **policy: object):
    def flaky(input):
        runs["flaky"] += 1
        if runs["flaky"] <= failures:
            raise RuntimeError(f"failure {runs['flaky']}")
        return {"ok": True}

    flaky_job = create_workflow_job(name="flaky", body=flaky)

    def main(input, ctx):
        runs["main"] += 1
        return ctx.jobs.flaky({})

    return create_workflow(
        name="retried",
        main_job=create_workflow_job(name="main", body=main, deps=[flaky_job]),
        retry_policy=RetryPolicy(**policy),
    )


def test_workflow_retry_policy_retries_from_checkpoints(make_engine):
    runs: Counter[str] = Counter()
    workflow = _flaky_workflow(2, runs, max_retries=2, initial_backoff="100ms", max_backoff="1s")
    engine = make_engine(workflow)
    execution_id = engine.start(workflow)
    assert engine.run_execution(execution_id)
    between = engine.get_execution(execution_id)
    assert between.status == "PENDING_RETRY" and between.wake_at is not None
    done = engine.wait(execution_id, timeout=30)
    assert done.status == "SUCCESS"
    flaky = [(j.attempt, str(j.status)) for j in done.job_executions if j.job_name == "flaky"]
    assert flaky == [(1, "FAILED"), (2, "FAILED"), (3, "SUCCESS")]
    assert runs["main"] == 3


def test_workflow_retry_policy_gives_up_and_stays_resumable(make_engine):
    runs: Counter[str] = Counter()
    workflow = _flaky_workflow(2, runs, max_retries=1, initial_backoff="100ms", max_backoff="1s")
    engine = make_engine(workflow)
    failed = engine.wait(engine.start(workflow), timeout=30)
    assert failed.status == "FAILED"
    assert runs["flaky"] == 2
    engine.resume(failed.id)
    assert engine.wait(failed.id, timeout=30).status == "SUCCESS"


def test_job_retry_policy_retries_in_place(make_engine):
    runs: Counter[str] = Counter()

    def flaky(input):
        runs["flaky"] += 1
        if runs["flaky"] < 3:
            raise RuntimeError("not yet")
        return {"ok": True}

    flaky_job = create_workflow_job(
        name="flaky",
        body=flaky,
        retry_policy=RetryPolicy(max_retries=3, initial_backoff="10ms", max_backoff="50ms"),
    )
    main = create_workflow_job(
        name="main", body=lambda input, ctx: ctx.jobs.flaky({}), deps=[flaky_job]
    )
    workflow = create_workflow(name="job-retries", main_job=main)
    done = run_workflow(make_engine(workflow), workflow)
    assert done.status == "SUCCESS"
    assert [(j.attempt, str(j.status)) for j in done.job_executions if j.job_name == "flaky"] == [
        (1, "FAILED"),
        (2, "FAILED"),
        (3, "SUCCESS"),
    ]


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"max_retries": 0}, "max_retries"),
        ({"max_retries": 11}, "max_retries"),
        ({"initial_backoff": "0s"}, "initial_backoff"),
        ({"initial_backoff": "2h", "max_backoff": "3h"}, "initial_backoff"),
        ({"max_backoff": "25h"}, "max_backoff"),
        ({"initial_backoff": "10s", "max_backoff": "5s"}, "initial_backoff"),
        ({"backoff_multiplier": 0.5}, "backoff_multiplier"),
        ({"initial_backoff": "soon"}, "initial_backoff"),
    ],
)
def test_retry_policy_bounds(options, field):
    with pytest.raises(DefinitionError, match=field):
        RetryPolicy(**options)


def test_retry_policy_backoff():
    policy = RetryPolicy(
        max_retries=5, initial_backoff="500ms", max_backoff="3s", backoff_multiplier=2
    )
    assert [policy.backoff_seconds(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert RetryPolicy(max_retries=1, initial_backoff=2, max_backoff="1m").max_backoff_seconds == 60


def test_job_timeout(make_engine):
    import asyncio

    def slow(input):
        time.sleep(1.0)
        return {}

    async def slow_async(input):
        await asyncio.sleep(1.0)
        return {}

    slow_job = create_workflow_job(name="slow", body=slow, timeout="200ms")
    slow_async_job = create_workflow_job(name="slow-async", body=slow_async, timeout=0.2)

    def main(input, ctx):
        outcomes = []
        for dep in (ctx.jobs.slow, ctx.jobs.slow_async):
            try:
                dep({})
                outcomes.append("finished")
            except Exception as error:
                outcomes.append(error.error_type)
        return outcomes

    workflow = create_workflow(
        name="timeouts",
        main_job=create_workflow_job(name="main", body=main, deps=[slow_job, slow_async_job]),
    )
    started = time.monotonic()
    done = run_workflow(make_engine(workflow), workflow)
    assert done.result == ["JobTimeout", "JobTimeout"]
    assert time.monotonic() - started < 1.5
    assert "timeout of 0.2s" in done.job_executions[1].error["message"]


def test_concurrency_policy_bounds():
    for bad in (0, 1001, "3"):
        with pytest.raises(DefinitionError, match="max_concurrent_executions"):
            ConcurrencyPolicy(max_concurrent_executions=bad)


def test_concurrency_cap_keeps_the_excess_pending(make_engine):
    release = threading.Event()
    hold = create_workflow_job(name="hold", body=lambda input: release.wait(10) and {})
    capped = create_workflow(
        name="capped",
        main_job=hold,
        concurrency_policy=ConcurrencyPolicy(max_concurrent_executions=2),
    )
    engine = make_engine(capped)
    ids = [engine.start(capped, {"n": n}) for n in range(4)]
    claimed = engine.claim_runnable(10)
    assert [lease.execution_id for lease in claimed] == ids[:2]
    assert engine.claim_runnable(10) == []
    runners = [threading.Thread(target=engine.run_claimed, args=(lease,)) for lease in claimed]
    for runner in runners:
        runner.start()
    release.set()
    for runner in runners:
        runner.join(10)
    assert [lease.execution_id for lease in engine.claim_runnable(10)] == ids[2:]


def test_project_wide_cap(make_engine):
    echo = create_workflow_job(name="echo", body=lambda input: input)
    workflow = create_workflow(name="echo-flow", main_job=echo)
    engine = make_engine(workflow, max_concurrent_executions=3)
    for n in range(5):
        engine.start(workflow, {"n": n})
    assert len(engine.claim_runnable(10)) == 3
    assert engine.claim_runnable(10) == []

"""Wait points and durable sleep: the execution parks, holds nothing, and resumes."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter

import pytest

from stackflow import (
    WaitPointError,
    create_wait_point,
    create_workflow,
    create_workflow_job,
    shapes,
)
from stackflow.errors import DefinitionError, ExecutionNotFound

approval = create_wait_point("manager-approval")


def _approval_flow(runs: Counter[str], state: dict[str, bool]):
    def prepare(input):
        runs["prepare"] += 1
        return {"amount": input["amount"]}

    def ship(input):
        runs["ship"] += 1
        if state.get("ship_fails"):
            raise RuntimeError("carrier down")
        return {"shipped": True}

    prepare_job = create_workflow_job(name="prepare", body=prepare)
    ship_job = create_workflow_job(name="ship", body=ship)

    def main(input, ctx):
        order = ctx.jobs.prepare(input)
        decision = approval.wait({"amount": order["amount"]})
        runs["after-wait"] += 1
        if not decision["approved"]:
            return {"approved": False}
        return {"approved": True, "by": decision["by"], **ctx.jobs.ship({})}

    main_job = create_workflow_job(name="approve-order", body=main, deps=[prepare_job, ship_job])
    return create_workflow(name="approval", main_job=main_job)


def test_wait_point_key_grammar():
    for bad in ["A", "ab", "-abc", "abc-", "has space", "x" * 64, "Upper"]:
        with pytest.raises(DefinitionError, match="wait point key"):
            create_wait_point(bad)
    assert create_wait_point("abc").key == "abc"


def test_wait_parks_the_execution_and_resolve_resumes_it(make_engine):
    runs: Counter[str] = Counter()
    workflow = _approval_flow(runs, {})
    engine = make_engine(workflow)
    execution_id = engine.start(workflow, {"amount": 42})
    threads_before = threading.active_count()
    waiting = engine.wait(execution_id)
    assert waiting.status == "WAITING" and waiting.wake_at is None
    assert engine.heartbeat.held_leases() == []
    # at most the heartbeat and the wake-up listener: a parked execution holds no thread
    assert threading.active_count() <= threads_before + 2
    main = waiting.job_executions[0]
    assert main.status == "WAITING"

    script = textwrap.dedent(
        f"""
        from stackflow import Engine, create_wait_point
        engine = Engine({engine.database_url!r})
        value = create_wait_point("manager-approval").resolve(
            {execution_id!r}, lambda payload: {{"approved": payload["amount"] < 100, "by": "ann"}},
            engine=engine)
        print(value)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "'approved': True" in done.stdout
    assert engine.get_execution(execution_id).status == "PENDING_RESUME"

    finished = engine.wait(execution_id)
    assert finished.status == "SUCCESS"
    assert finished.result == {"approved": True, "by": "ann", "shipped": True}
    assert runs == Counter({"prepare": 1, "after-wait": 1, "ship": 1})
    mains = [j for j in finished.job_executions if j.stacked_job_name == "approve-order"]
    assert [(j.status, j.attempt) for j in mains] == [("SUCCESS", 1)]

    with pytest.raises(WaitPointError, match="already resolved"):
        engine.resolve(execution_id, approval, lambda payload: {"approved": False})


def test_resolve_errors(make_engine):
    runs: Counter[str] = Counter()
    workflow = _approval_flow(runs, {})
    engine = make_engine(workflow)
    with pytest.raises(ExecutionNotFound):
        engine.resolve("nope", "manager-approval", lambda p: p)
    pending = engine.start(workflow, {"amount": 1})
    with pytest.raises(
        WaitPointError,
        match=re.escape(f"Execution '{pending}' is not waiting at wait point 'manager-approval'."),
    ):
        engine.resolve(pending, "manager-approval", lambda p: p)
    engine.wait(pending)
    with pytest.raises(WaitPointError, match="not waiting at wait point 'other-point'"):
        engine.resolve(pending, "other-point", lambda p: p)
    assert engine.get_execution(pending).status == "WAITING"


def test_two_concurrent_resolves_exactly_one_wins(make_engine):
    workflow = _approval_flow(Counter(), {})
    engine = make_engine(workflow)
    execution_id = engine.start(workflow, {"amount": 1})
    engine.wait(execution_id)
    outcomes: list[str] = []

    def resolver(name: str) -> None:
        try:
            engine.resolve(execution_id, approval, lambda p: {"approved": True, "by": name})
            outcomes.append("won")
        except WaitPointError:
            outcomes.append("lost")

    threads = [threading.Thread(target=resolver, args=(f"r{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["lost", "lost", "lost", "won"]


def test_resuming_a_failure_after_the_wait_does_not_wait_again(make_engine):
    runs: Counter[str] = Counter()
    state = {"ship_fails": True}
    workflow = _approval_flow(runs, state)
    engine = make_engine(workflow)
    execution_id = engine.start(workflow, {"amount": 5})
    engine.wait(execution_id)
    engine.resolve(execution_id, "manager-approval", lambda p: {"approved": True, "by": "bo"})
    failed = engine.wait(execution_id)
    assert failed.status == "FAILED"
    state["ship_fails"] = False
    engine.resume(execution_id)
    done = engine.wait(execution_id)
    assert done.status == "SUCCESS" and done.result["by"] == "bo"
    assert runs == Counter({"prepare": 1, "after-wait": 2, "ship": 2})


def test_durable_sleep_survives_a_restart_without_repeating_work(make_engine):
    runs: Counter[str] = Counter()

    def before(input):
        runs["before"] += 1
        return {}

    before_job = create_workflow_job(name="before", body=before)

    def main(input, ctx):
        ctx.jobs.before({})
        ctx.sleep(2)
        runs["after"] += 1
        return {"slept": True}

    workflow = create_workflow(
        name="sleeper", main_job=create_workflow_job(name="main", body=main, deps=[before_job])
    )
    first = make_engine(workflow)
    execution_id = first.start(workflow)
    started = time.monotonic()
    assert first.run_execution(execution_id)  # runs until the sleep parks it
    parked = first.get_execution(execution_id)
    assert parked.status == "WAITING" and parked.wake_at is not None
    first.close()  # the process that ran it goes away

    second = make_engine(workflow)
    done = second.wait(execution_id, timeout=30)
    elapsed = time.monotonic() - started
    assert done.status == "SUCCESS"
    assert 1.9 <= elapsed < 5
    assert runs == Counter({"before": 1, "after": 1})


def test_a_replay_after_waking_does_not_sleep_again(make_engine):
    state = {"fail": True}

    def main(input, ctx):
        ctx.sleep(0.3)
        if state["fail"]:
            raise RuntimeError("after the sleep")
        return {}

    workflow = create_workflow(
        name="nap-then-fail", main_job=create_workflow_job(name="main", body=main)
    )
    engine = make_engine(workflow)
    failed = engine.wait(engine.start(workflow))
    assert failed.status == "FAILED"
    state["fail"] = False
    engine.resume(failed.id)
    started = time.monotonic()
    assert engine.wait(failed.id).status == "SUCCESS"
    assert time.monotonic() - started < 0.3


def test_sleep_outside_an_execution_just_sleeps():
    from stackflow import JobContext

    started = time.monotonic()
    JobContext().sleep(0.05)
    assert time.monotonic() - started >= 0.05


def test_a_wait_outside_a_job_is_an_error():
    from stackflow import StackflowError

    with pytest.raises(StackflowError, match="inside a running job"):
        approval.wait()


def test_a_waiting_execution_says_what_it_waits_for(make_engine):
    review = create_wait_point("legal-review")

    def main(input, ctx):
        if input.get("sleep"):
            ctx.sleep(60)
        return review.wait({"contract": input["contract"]})

    workflow = create_workflow(name="reviewed", main_job=create_workflow_job(name="m", body=main))
    engine = make_engine(workflow)
    waiting = engine.wait(engine.start(workflow, {"contract": "c-7"}))
    assert waiting.waiting_for is not None
    assert (waiting.waiting_for.key, waiting.waiting_for.payload) == (
        "legal-review",
        {"contract": "c-7"},
    )
    assert shapes.execution_json(waiting)["waitingFor"] == {
        "key": "legal-review",
        "payload": {"contract": "c-7"},
    }
    [listed] = engine.list_executions("reviewed")
    assert listed.waiting_for == waiting.waiting_for
    sleeping_id = engine.start(workflow, {"contract": "c-8", "sleep": True})
    assert engine.run_execution(sleeping_id)
    sleeping = engine.get_execution(sleeping_id)
    shaped = shapes.execution_json(sleeping)
    assert sleeping.waiting_for is None and "waitingFor" not in shaped
    assert shaped["wakeAt"] == shapes.timestamp(sleeping.wake_at)
    with pytest.raises(WaitPointError, match="it waits at 'legal-review'"):
        engine.resolve(waiting.id, "other-review", lambda payload: True)

"""Resume: finished jobs come from the store, failed ones run again, replay is checked."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from stackflow import JobFailed, create_workflow, create_workflow_job
from stackflow.errors import ExecutionNotFound, NotResumable
from stackflow.testing import run_workflow


def _chain(runs: Counter[str], broken: set[int]):
    def step(input):
        runs[f"step-{input['i']}"] += 1
        if input["i"] in broken:
            raise RuntimeError(f"step {input['i']} is broken")
        return {"i": input["i"], "ok": True}

    child = create_workflow_job(name="step", body=step)

    def main(input, ctx):
        runs["main"] += 1
        return [ctx.jobs.step({"i": i})["i"] for i in range(1, 6)]

    return create_workflow(
        name="five-steps", main_job=create_workflow_job(name="main", body=main, deps=[child])
    )


def test_resume_skips_finished_children_and_reruns_the_failed_one(make_engine):
    runs: Counter[str] = Counter()
    broken = {4}
    workflow = _chain(runs, broken)
    engine = make_engine(workflow)
    failed = run_workflow(engine, workflow)
    assert failed.status == "FAILED"
    assert "step 4 is broken" in failed.error["message"]

    broken.clear()  # the cause is fixed
    engine.resume(failed.id)
    assert engine.get_execution(failed.id).status == "PENDING_RESUME"
    resumed = engine.wait(failed.id)
    assert resumed.id == failed.id
    assert resumed.status == "SUCCESS"
    assert resumed.result == [1, 2, 3, 4, 5]
    assert resumed.error is None
    assert runs == Counter(
        {"step-1": 1, "step-2": 1, "step-3": 1, "step-4": 2, "step-5": 1, "main": 2}
    )

    history = [(j.stacked_job_name, j.status, j.attempt) for j in resumed.job_executions]
    assert history.count(("main", "FAILED", 1)) == 1
    assert ("main", "SUCCESS", 2) in history
    assert ("main/step", "FAILED", 1) in history
    assert ("main/step", "SUCCESS", 2) in history
    assert len(history) == 8  # append-only: 2 main attempts, 5 steps, 1 extra step attempt


def test_resume_refuses_what_is_not_resumable(make_engine):
    runs: Counter[str] = Counter()
    workflow = _chain(runs, set())
    engine = make_engine(workflow)
    done = run_workflow(engine, workflow)
    with pytest.raises(
        NotResumable, match=re.escape(f"Execution '{done.id}' is not in a resumable state.")
    ):
        engine.resume(done.id)
    pending = engine.start(workflow)
    with pytest.raises(NotResumable):
        engine.resume(pending)
    with pytest.raises(ExecutionNotFound):
        engine.resume("missing")


def test_a_caught_failure_is_replayed_identically_on_resume(make_engine):
    runs: Counter[str] = Counter()
    state = {"fail_last": True}

    def flaky(input):
        runs["flaky"] += 1
        raise RuntimeError("flaky is down")

    def last(input):
        runs["last"] += 1
        if state["fail_last"]:
            raise RuntimeError("last is down")
        return {"done": True}

    flaky_job = create_workflow_job(name="flaky", body=flaky)
    last_job = create_workflow_job(name="last", body=last)

    def main(input, ctx):
        try:
            ctx.jobs.flaky({})
            handled = "no"
        except JobFailed as failed:
            handled = failed.error_type
        return {"handled": handled, "last": ctx.jobs.last({})}

    workflow = create_workflow(
        name="catcher",
        main_job=create_workflow_job(name="main", body=main, deps=[flaky_job, last_job]),
    )
    engine = make_engine(workflow)
    first = run_workflow(engine, workflow)
    assert first.status == "FAILED"
    state["fail_last"] = False
    engine.resume(first.id)
    resumed = engine.wait(first.id)
    assert resumed.status == "SUCCESS"
    assert resumed.result == {"handled": "RuntimeError", "last": {"done": True}}
    assert runs == Counter({"flaky": 1, "last": 2})


def _recorded_then_changed(make_engine, second_call):
    calls = {"fail": True}
    a = create_workflow_job(name="a", body=lambda input: input)
    b = create_workflow_job(name="b", body=lambda input: input)

    def boom(input):
        if calls["fail"]:
            raise RuntimeError("boom")
        return {}

    tail = create_workflow_job(name="tail", body=boom)
    plan = {"second": ("a", {"n": 2})}

    def main(input, ctx):
        ctx.jobs.a({"n": 1})
        name, arg = plan["second"]
        ctx.jobs[name](arg)
        ctx.jobs.tail({})
        return {}

    workflow = create_workflow(
        name="replayed", main_job=create_workflow_job(name="main", body=main, deps=[a, b, tail])
    )
    engine = make_engine(workflow)
    failed = run_workflow(engine, workflow)
    assert failed.status == "FAILED"
    calls["fail"] = False
    plan["second"] = second_call
    engine.resume(failed.id)
    return engine.wait(failed.id)


@pytest.mark.parametrize(
    ("second_call", "shown"),
    [(("b", {"n": 2}), 'b({"n":2})'), (("a", {"n": 3}), 'a({"n":3})')],
    ids=["other-job", "other-input"],
)
def test_a_replay_that_calls_something_else_is_non_deterministic(make_engine, second_call, shown):
    resumed = _recorded_then_changed(make_engine, second_call)
    assert resumed.status == "FAILED"
    message = resumed.error["message"]
    assert "non-determinism" in message
    assert 'a({"n":2})' in message  # the recorded call
    assert shown in message  # the new one


def test_a_replay_that_makes_fewer_calls_is_non_deterministic(make_engine):
    state = {"calls": 3, "fail": True}
    leaf = create_workflow_job(name="leaf", body=lambda input: input)

    def main(input, ctx):
        for i in range(state["calls"]):
            ctx.jobs.leaf({"i": i})
        if state["fail"]:
            raise RuntimeError("after the calls")
        return {}

    workflow = create_workflow(
        name="shrinking", main_job=create_workflow_job(name="main", body=main, deps=[leaf])
    )
    engine = make_engine(workflow)
    failed = run_workflow(engine, workflow)
    state.update(calls=2, fail=False)
    engine.resume(failed.id)
    resumed = engine.wait(failed.id)
    assert resumed.status == "FAILED"
    assert "non-determinism" in resumed.error["message"]
    assert 'leaf({"i":2})' in resumed.error["message"]


def test_grandchildren_are_cached_through_a_resumed_parent(make_engine):
    runs: Counter[str] = Counter()
    state = {"fail": True}

    def leaf(input):
        runs[f"leaf-{input['i']}"] += 1
        return input

    leaf_job = create_workflow_job(name="leaf", body=leaf)

    def middle(input, ctx):
        runs["middle"] += 1
        got = [ctx.jobs.leaf({"i": i}) for i in range(3)]
        if state["fail"]:
            raise RuntimeError("middle fails after its leaves")
        return got

    middle_job = create_workflow_job(name="middle", body=middle, deps=[leaf_job])
    main = create_workflow_job(
        name="main", body=lambda input, ctx: ctx.jobs.middle({}), deps=[middle_job]
    )
    workflow = create_workflow(name="three-levels", main_job=main)
    engine = make_engine(workflow)
    failed = run_workflow(engine, workflow)
    assert failed.status == "FAILED"
    assert failed.error["stackedJobName"] == "main/middle"
    state["fail"] = False
    engine.resume(failed.id)
    resumed = engine.wait(failed.id)
    assert resumed.status == "SUCCESS"
    assert runs == Counter({"middle": 2, "leaf-0": 1, "leaf-1": 1, "leaf-2": 1})

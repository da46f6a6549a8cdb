"""engine.restart: a new execution that carries the old one's finished job executions."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from stackflow import create_wait_point, create_workflow, create_workflow_job
from stackflow.errors import ExecutionNotFound, InvalidArgument, NotRestartable, UnknownJob
from stackflow.testing import run_workflow

approval = create_wait_point("restart-approval")


def _pipeline(runs: Counter[str], broken: set[str]):
    """main → load, then transform (which calls clean), then save; each counts its runs."""

    def body(name: str):
        def run(input):
            runs[name] += 1
            if name in broken:
                raise RuntimeError(f"{name} is broken")
            return {"by": name, "value": input.get("value", 0) + 1}

        return run

    clean = create_workflow_job(name="clean", body=body("clean"))

    def transform(input, ctx):
        runs["transform"] += 1
        return ctx.jobs.clean(input)

    load = create_workflow_job(name="load", body=body("load"))
    transform_job = create_workflow_job(name="transform", body=transform, deps=[clean])
    save = create_workflow_job(name="save", body=body("save"))

    def main(input, ctx):
        runs["main"] += 1
        loaded = ctx.jobs.load({"value": input["start"]})
        shaped = ctx.jobs.transform(loaded)
        return ctx.jobs.save(shaped)

    main_job = create_workflow_job(name="main", body=main, deps=[load, transform_job, save])
    return create_workflow(name="pipeline", main_job=main_job)


def _names(execution) -> list[str]:
    return [job.stacked_job_name for job in execution.job_executions]


def test_restart_from_a_job_carries_what_finished_before_it(make_engine):
    runs: Counter[str] = Counter()
    broken = {"save"}
    workflow = _pipeline(runs, broken)
    engine = make_engine(workflow)
    failed = run_workflow(engine, workflow, {"start": 1})
    assert failed.status == "FAILED"
    broken.clear()
    runs.clear()

    new_id = engine.restart(failed.id, from_job="main/save")

    pending = engine.get_execution(new_id)
    assert pending.status == "PENDING" and pending.restarted_from == failed.id
    assert pending.arg == {"start": 1}
    assert _names(pending) == ["main/load", "main/transform", "main/transform/clean"]
    done = engine.wait(new_id)
    assert done.status == "SUCCESS" and done.result == {"by": "save", "value": 4}
    assert runs == Counter({"main": 1, "save": 1})  # the copies answered load and transform
    assert engine.get_execution(failed.id).status == "FAILED"  # the old one is untouched


def test_restart_from_a_nested_job_runs_the_jobs_that_called_it_again(make_engine):
    runs: Counter[str] = Counter()
    workflow = _pipeline(runs, {"clean"})
    engine = make_engine(workflow)
    failed = run_workflow(engine, workflow, {"start": 1})
    runs.clear()
    workflow_fixed = _pipeline(runs, set())
    fixed = make_engine(workflow_fixed)

    done = fixed.wait(fixed.restart(failed.id, from_job="main/transform/clean"))

    assert done.status == "SUCCESS"
    assert runs == Counter({"main": 1, "transform": 1, "clean": 1, "save": 1})  # not load


def test_restart_without_a_job_is_a_fresh_run_with_the_same_or_a_new_argument(make_engine):
    runs: Counter[str] = Counter()
    workflow = _pipeline(runs, set())
    engine = make_engine(workflow)
    done = run_workflow(engine, workflow, {"start": 1})
    runs.clear()

    again = engine.wait(engine.restart(done.id))
    assert again.result == done.result and again.restarted_from == done.id
    assert runs == Counter({"main": 1, "load": 1, "transform": 1, "clean": 1, "save": 1})
    other = engine.wait(engine.restart(done.id, arg={"start": 10}))
    assert other.arg == {"start": 10} and other.result == {"by": "save", "value": 13}


def test_restart_works_from_a_canceled_execution(make_engine):
    runs: Counter[str] = Counter()
    workflow = _pipeline(runs, set())
    engine = make_engine(workflow)
    canceled = engine.start(workflow, {"start": 0})
    assert engine.cancel(canceled) == "CANCELED"
    assert engine.wait(engine.restart(canceled)).status == "SUCCESS"


def test_restart_refuses_bad_requests_and_writes_nothing(make_engine):
    runs: Counter[str] = Counter()
    workflow = _pipeline(runs, {"save"})
    engine = make_engine(workflow)
    failed = run_workflow(engine, workflow, {"start": 1})
    pending = engine.start(workflow, {"start": 2})
    before = len(engine.list_executions())

    with pytest.raises(ExecutionNotFound, match=re.escape("Execution 'nope' not found.")):
        engine.restart("nope")
    with pytest.raises(NotRestartable, match=f"Execution '{pending}' is PENDING"):
        engine.restart(pending)
    with pytest.raises(UnknownJob) as unknown:
        engine.restart(failed.id, from_job="main/nope")
    assert str(unknown.value) == (
        f"Unknown job 'main/nope' in execution '{failed.id}'. Its stacked job names: "
        "main, main/load, main/transform, main/transform/clean, main/save."
    )
    with pytest.raises(InvalidArgument, match="must be a JSON object"):
        engine.restart(failed.id, arg=[1, 2])
    assert len(engine.list_executions()) == before


def test_a_restart_replays_patched_code_as_the_old_execution_did(make_engine):
    """The old execution took the new path of a `ctx.patched` change: its restart does too."""
    runs: Counter[str] = Counter()

    def step(input):
        runs[input["name"]] += 1
        return input["name"]

    step_job = create_workflow_job(name="step", body=step)

    def main(input, ctx):
        made = []
        if ctx.patched("extra-step"):
            made.append(ctx.jobs.step({"name": "extra"}))
        made.append(ctx.jobs.step({"name": "first"}))
        approval.wait({})
        made.append(ctx.jobs.step({"name": "last"}))
        return made

    workflow = create_workflow(
        name="patched-restart",
        main_job=create_workflow_job(name="main", body=main, deps=[step_job]),
    )
    engine = make_engine(workflow)
    waiting = run_workflow(engine, workflow)
    assert waiting.status == "WAITING"
    engine.cancel(waiting.id)
    runs.clear()

    restarted = engine.restart(waiting.id, from_job="main/step")  # carries nothing: the
    assert engine.get_execution(restarted).job_executions == ()  # first main/step is first
    carried = engine.restart(waiting.id, from_job="main")
    assert engine.get_execution(carried).job_executions == ()
    first_id = next(j.id for j in waiting.job_executions if j.input == {"name": "first"})
    # a job execution's id names that very one: carry "extra", run "first" again
    from_first = engine.wait(engine.restart(waiting.id, from_job=first_id))
    assert from_first.status == "WAITING"
    assert runs == Counter({"first": 1})
    assert [j.input for j in from_first.job_executions if j.job_name == "step"] == [
        {"name": "extra"},
        {"name": "first"},
    ]

"""engine.check_replay: replays of unfinished executions under new code, read-only."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from stackflow import create_wait_point, create_workflow, create_workflow_job
from stackflow.engine.engine import Engine
from stackflow.testing import run_workflow

hold = create_wait_point("replay-hold")


def _snapshot(engine: Engine) -> list[Any]:
    """Everything the store holds about every execution."""
    found = []
    for execution in engine.list_executions():
        rows = [vars(row) for row in engine.store.load_job_rows(execution.id)]
        waits = [vars(wait) for wait in engine.store.load_waits(execution.id)]
        found.append((execution, rows, waits))
    return found


def _shop(code: dict[str, str], runs: Counter[str]):
    """main: fetch, then (in `transform`) clean and tag, then wait at `hold`, then notify."""

    def leaf(name: str):
        def body(input):
            runs[name] += 1
            if code.get("broken") == name:
                raise RuntimeError(f"{name} broke")
            return {name: input}

        return create_workflow_job(name=name, body=body)

    fetch, clean, tag, notify, audit = (
        leaf(n) for n in ("fetch", "clean", "tag", "notify", "audit")
    )

    def transform(input, ctx):
        runs["transform"] += 1
        if code["version"] == "swap-in-transform":
            return [ctx.jobs.tag(input), ctx.jobs.clean(input)]
        return [ctx.jobs.clean(input), ctx.jobs.tag(input)]

    transform_job = create_workflow_job(name="transform", body=transform, deps=[clean, tag])

    def main(input, ctx):
        runs["main"] += 1
        version = code["version"]
        if version == "patched" and ctx.patched("audit-first"):
            ctx.jobs.audit({})
        if version == "reordered":
            ctx.jobs.transform({"n": input["n"]})
            ctx.jobs.fetch({"n": input["n"]})
        else:
            n = input["n"] + (100 if version == "new-input" else 0)
            ctx.jobs.fetch({"n": n})
            ctx.jobs.transform({"n": input["n"]})
        if version != "fewer-calls":
            hold.wait({})
        ctx.jobs.notify({})
        return "done"

    main_job = create_workflow_job(
        name="main", body=main, deps=[fetch, transform_job, notify, audit]
    )
    return create_workflow(name="shop", main_job=main_job)


def _started(make_engine, count: int = 2):
    code, runs = {"version": "v1"}, Counter()
    workflow = _shop(code, runs)
    engine = make_engine(workflow)
    ids = [run_workflow(engine, workflow, {"n": n}).id for n in range(count)]
    assert {engine.get_execution(i).status for i in ids} == {"WAITING"}
    runs.clear()
    return engine, workflow, code, runs, ids


def test_an_unchanged_project_replays_clean_and_nothing_runs_or_is_written(make_engine):
    engine, _, _, runs, _ = _started(make_engine)
    before = _snapshot(engine)
    assert engine.check_replay() == []
    assert runs == Counter({"main": 2})  # only the bodies a resume would run again
    assert _snapshot(engine) == before


def test_a_reordered_child_call_is_flagged_with_both_calls(make_engine):
    engine, _, code, runs, ids = _started(make_engine)
    code["version"] = "reordered"
    before = _snapshot(engine)

    findings = engine.check_replay()

    assert sorted(f.execution_id for f in findings) == sorted(ids)
    finding = next(f for f in findings if f.execution_id == ids[0])
    assert (finding.workflow_name, finding.stacked_job_name) == ("shop", "main")
    assert finding.message == (
        "non-determinism in job 'main' at call #1: the recorded call was "
        'fetch({"n":0}), the replay called transform({"n":0})'
    )
    assert runs == Counter({"main": 2})
    assert _snapshot(engine) == before


def test_a_changed_input_is_flagged(make_engine):
    engine, _, code, _, ids = _started(make_engine, count=1)
    code["version"] = "new-input"
    [finding] = engine.check_replay()
    assert finding.execution_id == ids[0]
    assert 'the recorded call was fetch({"n":0}), the replay called fetch({"n":100})' in (
        finding.message
    )


def test_a_patched_change_replays_clean(make_engine):
    engine, _, code, runs, _ = _started(make_engine)
    code["version"] = "patched"
    assert engine.check_replay() == []
    assert runs["audit"] == 0


def test_fewer_calls_than_recorded_are_flagged(make_engine):
    engine, _, code, _, _ = _started(make_engine, count=1)
    code["version"] = "fewer-calls"  # the wait is gone: notify is called where it was
    [finding] = engine.check_replay()
    assert "the recorded call was wait point 'replay-hold', the replay called notify({})" in (
        finding.message
    )


def test_a_job_that_would_run_again_is_replayed_too(make_engine):
    """A FAILED execution: `transform` failed after its first call; a resume runs it again,
    so its body is replayed (clean answered from the record) and checked."""
    code, runs = {"version": "v1", "broken": "tag"}, Counter()
    workflow = _shop(code, runs)
    engine = make_engine(workflow)
    failed = run_workflow(engine, workflow, {"n": 1})
    assert failed.status == "FAILED"
    runs.clear()

    assert engine.check_replay() == []
    assert runs == Counter({"main": 1, "transform": 1})  # tag (past the record) did not run

    code["version"] = "swap-in-transform"
    [finding] = engine.check_replay()
    assert finding.stacked_job_name == "main/transform"
    assert "the recorded call was clean" in finding.message


def test_only_executions_that_may_still_run_are_replayed(make_engine):
    engine, workflow, code, _, ids = _started(make_engine)
    engine.cancel(ids[0])
    engine.start(workflow, {"n": 5})  # PENDING: no history yet
    code["version"] = "reordered"
    assert [f.execution_id for f in engine.check_replay()] == [ids[1]]
    assert engine.check_replay("other-workflow") == []
    assert [f.execution_id for f in engine.check_replay("shop")] == [ids[1]]


def test_an_execution_of_a_workflow_that_is_gone_is_reported(make_engine, store_url):
    _, _, _, _, ids = _started(make_engine, count=1)
    other = create_workflow(
        name="other", main_job=create_workflow_job(name="other-main", body=lambda: 1)
    )
    without_shop = Engine(store_url, [other])
    try:
        [finding] = without_shop.check_replay()
    finally:
        without_shop.close()
    assert (finding.execution_id, finding.stacked_job_name) == (ids[0], None)
    assert "workflow 'shop' is not defined by this project" in finding.message


def test_parallel_and_async_children_are_checked(make_engine):
    code, runs = {"order": "ab"}, Counter()

    def letter(input):
        runs[input] += 1
        return input

    letter_job = create_workflow_job(name="letter", body=letter)

    def fan_out(input, ctx):
        handles = [ctx.jobs.letter.start(ch) for ch in code["order"]]
        values = [handle.result() for handle in handles]
        hold.wait({})
        return values

    async def gather(input, ctx):
        values = await asyncio.gather(*(ctx.jobs.letter(ch) for ch in code["order"]))
        hold.wait({})
        return list(values)

    workflows = [
        create_workflow(
            name=f"fan-{kind}", main_job=create_workflow_job(name=kind, body=b, deps=[letter_job])
        )
        for kind, b in (("sync", fan_out), ("async", gather))
    ]
    engine = make_engine(*workflows)
    for workflow in workflows:
        assert run_workflow(engine, workflow).status == "WAITING"
    runs.clear()
    assert engine.check_replay() == []
    code["order"] = "ba"
    assert sorted(f.workflow_name for f in engine.check_replay()) == ["fan-async", "fan-sync"]
    assert runs == Counter()


def test_the_registry_does_not_record_the_checked_code(make_engine, store_url):
    """Checking new code is not deploying it: `workflow get` keeps the versions it had."""
    engine, *_ = _started(make_engine, count=1)
    before = engine.store.list_workflow_records()
    changed = create_workflow(
        name="shop", main_job=create_workflow_job(name="main", body=lambda: "changed")
    )
    checker = Engine(store_url, [changed])
    try:
        assert len(checker.check_replay()) == 1  # main makes no call where one was recorded
    finally:
        checker.close()
    assert engine.store.list_workflow_records() == before

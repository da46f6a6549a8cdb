"""ctx.patched: new executions take the changed path, old ones replay the path they took."""

from __future__ import annotations

from collections import Counter

import pytest

from stackflow import JobContext, create_wait_point, create_workflow, create_workflow_job
from stackflow.store.base import PATCH
from stackflow.testing import run_workflow

gate = create_wait_point("patched-gate")


def _orders(code: dict[str, str], runs: Counter[str]):
    """main: [check-stock when patched] → reserve → wait at the gate → ship.

    `code["version"]` is the deployed code: "old" (no check), "patched" or "naive"
    (the check added without ctx.patched), or "cleaned" (the check kept, patched() gone).
    """

    def job(name: str):
        def body(input):
            runs[name] += 1
            return {name: True}

        return create_workflow_job(name=name, body=body)

    check, reserve, ship = job("check-stock"), job("reserve"), job("ship")

    def main(input, ctx):
        version = code["version"]
        checked = version == "naive" or version == "cleaned"
        if version == "patched":
            checked = ctx.patched("stock-check")
        if checked:
            ctx.jobs.check_stock({"order": input["order"]})
        ctx.jobs.reserve({"order": input["order"]})
        gate.wait({"order": input["order"]})
        ctx.jobs.ship({"order": input["order"]})
        return {"checked": checked}

    main_job = create_workflow_job(name="main", body=main, deps=[check, reserve, ship])
    return create_workflow(name="patched-orders", main_job=main_job)


def _finish(engine, execution_id):
    engine.resolve(execution_id, "patched-gate", lambda payload: {"go": True})
    return engine.wait(execution_id)


def test_old_executions_keep_the_old_path_and_new_ones_take_the_new(make_engine):
    code, runs = {"version": "old"}, Counter()
    workflow = _orders(code, runs)
    engine = make_engine(workflow)
    old = run_workflow(engine, workflow, {"order": 1})
    assert old.status == "WAITING"

    code["version"] = "patched"  # deployed while the old one waits
    new = run_workflow(engine, workflow, {"order": 2})
    assert new.status == "WAITING" and runs["check-stock"] == 1

    old_done, new_done = _finish(engine, old.id), _finish(engine, new.id)
    assert (old_done.status, old_done.result) == ("SUCCESS", {"checked": False})
    assert (new_done.status, new_done.result) == ("SUCCESS", {"checked": True})
    assert "main/check-stock" not in [j.stacked_job_name for j in old_done.job_executions]
    assert runs["check-stock"] == 1  # the new one's check was not run again on its replay
    markers = [w for w in engine.store.load_waits(new.id) if w.kind == PATCH]
    assert [(m.call_path, m.key) for m in markers] == [("000000@stock-check", "stock-check")]
    assert not [w for w in engine.store.load_waits(old.id) if w.kind == PATCH]


def test_an_execution_that_reaches_the_change_runs_it(make_engine):
    """The change is after the point where an old execution waits: it takes the new path."""
    code, runs = {"version": "old"}, Counter()
    job = create_workflow_job(name="audit", body=lambda input: runs.update(["audit"]))

    def main(input, ctx):
        gate.wait({})
        if code["version"] == "patched" and ctx.patched("audit"):
            ctx.jobs.audit({})
        return "done"

    workflow = create_workflow(
        name="audit-after-wait", main_job=create_workflow_job(name="main", body=main, deps=[job])
    )
    engine = make_engine(workflow)
    waiting = run_workflow(engine, workflow)
    code["version"] = "patched"
    assert _finish(engine, waiting.id).status == "SUCCESS"
    assert runs["audit"] == 1


def test_removing_the_patched_call_later_keeps_positions(make_engine):
    """Markers take no position: once old executions are gone, `if ctx.patched(...)` can be
    dropped (keeping the new path) without disturbing executions that recorded a marker."""
    code, runs = {"version": "patched"}, Counter()
    workflow = _orders(code, runs)
    engine = make_engine(workflow)
    new = run_workflow(engine, workflow, {"order": 3})
    code["version"] = "cleaned"
    done = _finish(engine, new.id)
    assert (done.status, done.result) == ("SUCCESS", {"checked": True})
    assert runs["check-stock"] == 1


def test_without_patched_the_change_breaks_old_executions(make_engine):
    code, runs = {"version": "old"}, Counter()
    workflow = _orders(code, runs)
    engine = make_engine(workflow)
    old = run_workflow(engine, workflow, {"order": 4})
    code["version"] = "naive"
    broken = _finish(engine, old.id)
    assert broken.status == "FAILED"
    assert broken.error["type"] == "NonDeterminismError"


def test_patched_outside_an_execution_is_the_new_code():
    assert JobContext().patched("anything") is True
    with pytest.raises(ValueError, match="a non-empty string"):
        JobContext().patched("")

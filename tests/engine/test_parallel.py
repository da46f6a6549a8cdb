"""Parallel children: asyncio.gather in async bodies and .start() handles in def bodies."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter

from stackflow import create_workflow, create_workflow_job
from stackflow.testing import run_workflow

CHILDREN = 6
MEET_TIMEOUT_SECONDS = 20.0


def _meeting_children():
    """Children that each wait until all of them are running at once: they succeed only
    when the engine runs them in parallel (run one after another, the first one waits in
    vain and fails)."""
    threads = threading.Barrier(CHILDREN, timeout=MEET_TIMEOUT_SECONDS)
    loops = asyncio.Barrier(CHILDREN)

    def meet(input):
        threads.wait()
        return {"i": input["i"]}

    async def meet_async(input):
        await asyncio.wait_for(loops.wait(), MEET_TIMEOUT_SECONDS)
        return {"i": input["i"]}

    return meet, meet_async


async def _nap_async(input):
    await asyncio.sleep(0.01)
    return {"i": input["i"]}


def test_asyncio_gather_runs_children_in_parallel(make_engine):
    nap = create_workflow_job(name="nap", body=_meeting_children()[1])

    async def main(input, ctx):
        return await asyncio.gather(*(ctx.jobs.nap({"i": i}) for i in range(6)))

    workflow = create_workflow(
        name="gathered", main_job=create_workflow_job(name="main", body=main, deps=[nap])
    )
    execution = run_workflow(make_engine(workflow), workflow)
    assert execution.status == "SUCCESS"
    assert execution.result == [{"i": i} for i in range(6)]


def test_gather_of_sync_children_from_an_async_parent(make_engine):
    nap = create_workflow_job(name="nap", body=_meeting_children()[0])

    async def main(input, ctx):
        return await asyncio.gather(*(ctx.jobs.nap({"i": i}) for i in range(6)))

    workflow = create_workflow(
        name="gathered-sync", main_job=create_workflow_job(name="main", body=main, deps=[nap])
    )
    execution = run_workflow(make_engine(workflow), workflow)
    assert execution.result == [{"i": i} for i in range(6)]


def test_start_handles_run_children_in_parallel_from_a_def_body(make_engine):
    nap = create_workflow_job(name="nap", body=_meeting_children()[0])

    def main(input, ctx):
        handles = [ctx.jobs.nap.start({"i": i}) for i in range(6)]
        return [handle.result() for handle in handles]

    workflow = create_workflow(
        name="started", main_job=create_workflow_job(name="main", body=main, deps=[nap])
    )
    execution = run_workflow(make_engine(workflow), workflow)
    assert execution.status == "SUCCESS"
    assert execution.result == [{"i": i} for i in range(6)]
    children = [j for j in execution.job_executions if j.job_name == "nap"]
    assert sorted(j.input["i"] for j in children) == list(range(6))


def test_trigger_inside_an_async_body_is_synchronous(make_engine):
    leaf = create_workflow_job(name="leaf", body=_nap_async)

    async def main(input, ctx):
        first = ctx.jobs.leaf.trigger({"i": 1})
        return [first, await ctx.jobs.leaf({"i": 2})]

    workflow = create_workflow(
        name="mixed", main_job=create_workflow_job(name="main", body=main, deps=[leaf])
    )
    execution = run_workflow(make_engine(workflow), workflow)
    assert execution.result == [{"i": 1}, {"i": 2}]


def test_parallel_positions_are_deterministic_on_resume(make_engine):
    runs: Counter[int] = Counter()
    state = {"fail": True}

    async def work(input):
        await asyncio.sleep(0.01 * (5 - input["i"]))  # finish in reverse order
        runs[input["i"]] += 1
        if input["i"] == 3 and state["fail"]:
            raise RuntimeError("three failed")
        return input["i"] * 10

    worker = create_workflow_job(name="work", body=work)

    async def main(input, ctx):
        return await asyncio.gather(*(ctx.jobs.work({"i": i}) for i in range(5)))

    workflow = create_workflow(
        name="parallel-resume", main_job=create_workflow_job(name="main", body=main, deps=[worker])
    )
    engine = make_engine(workflow)
    failed = run_workflow(engine, workflow)
    assert failed.status == "FAILED"
    state["fail"] = False
    engine.resume(failed.id)
    resumed = engine.wait(failed.id)
    assert resumed.status == "SUCCESS"
    assert resumed.result == [0, 10, 20, 30, 40]
    assert runs == Counter({0: 1, 1: 1, 2: 1, 3: 2, 4: 1})

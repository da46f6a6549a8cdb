"""Concurrency caps and schedules with several real `stackflow worker` processes."""

from __future__ import annotations

import textwrap
import time
from datetime import datetime

import pytest
from commands import wait_until

CAPPED = textwrap.dedent(
    """
    import time

    from stackflow import ConcurrencyPolicy, create_workflow, create_workflow_job

    def _hold(input):
        time.sleep(1.0)
        return {"n": input["n"]}

    hold = create_workflow_job(name="hold", body=_hold)
    capped = create_workflow(
        name="capped", main_job=hold,
        concurrency_policy=ConcurrencyPolicy(max_concurrent_executions=2),
    )
    """
)
TICKER = textwrap.dedent(
    """
    from stackflow import create_schedule, create_workflow, create_workflow_job

    tick = create_workflow_job(name="tick", body=lambda input: input)
    ticker = create_workflow(name="ticker", main_job=tick)
    every_second = create_schedule(
        "every-second", cron="* * * * * *", workflow=ticker,
        args=lambda at: {"tick": at.isoformat()},
    )
    """
)


def _max_overlap(intervals: list[tuple[float, float]]) -> int:
    events = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    running = peak = 0
    for _, change in events:
        running += change
        peak = max(peak, running)
    return peak


@pytest.mark.slow
def test_a_workflow_cap_holds_across_two_workers(fault_project, store_url):
    project = fault_project(store_url, 5.0)
    (project.root / "workflows" / "capped.py").write_text(CAPPED)
    engine = project.engine()
    ids = [engine.start("capped", {"n": n}) for n in range(10)]
    for _ in range(2):
        project.start_worker(concurrency=4)
    wait_until(
        lambda: all(engine.get_execution(i).status == "SUCCESS" for i in ids), 60, "10 executions"
    )
    mains = [engine.get_execution(i).job_executions[0] for i in ids]
    intervals = [(j.started_at.timestamp(), j.finished_at.timestamp()) for j in mains]
    assert _max_overlap(intervals) == 2
    engine.close()


@pytest.mark.slow
def test_a_schedule_starts_once_per_tick_with_three_workers(fault_project, store_url):
    project = fault_project(store_url, 5.0)
    (project.root / "workflows" / "ticker.py").write_text(TICKER)
    engine = project.engine()
    began = time.time()
    for _ in range(3):
        project.start_worker(concurrency=2)
    time.sleep(5)
    project.stop_all()
    ended = time.time()
    ticks = [e.arg["tick"] for e in engine.list_executions("ticker")]
    assert len(set(ticks)) == len(ticks)  # once per tick, however many workers
    seconds = [datetime.fromisoformat(tick).timestamp() for tick in ticks]
    assert all(began - 1 <= second <= ended for second in seconds)
    assert 4 <= len(ticks) <= int(ended - began) + 1
    engine.close()

"""The workloads written for stackflow with its public API, on a fresh database per run."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from benchmarks import pg
from benchmarks.spec import W2_CHILDREN_PER_EXECUTION, W2_CONCURRENCY, W4_SLEEP_SECONDS
from stackflow import create_workflow, create_workflow_job

_runs: Counter[int] = Counter()
TRACE_QUEUE = 1 << 16
"""Spans the batch processor may hold: none is dropped even at N = 10,000 (S)."""


def _child(input: dict[str, Any]) -> dict[str, Any]:
    return {"i": input["i"], "ok": True}


def _chain(input: dict[str, Any], ctx: Any) -> dict[str, int]:
    for i in range(input["n"]):
        ctx.jobs.child.trigger({"i": i})
    return {"done": input["n"]}


def _many(input: dict[str, Any], ctx: Any) -> dict[str, int]:
    for i in range(W2_CHILDREN_PER_EXECUTION):
        ctx.jobs.child.trigger({"i": input["k"] * W2_CHILDREN_PER_EXECUTION + i})
    return {"done": W2_CHILDREN_PER_EXECUTION}


def _flaky_child(input: dict[str, Any]) -> dict[str, Any]:
    i = input["i"]
    _runs[i] += 1
    if i == input["last"] and _runs[i] == 1:
        raise RuntimeError(f"child {i} fails on its first attempt")
    return {"i": i, "ok": True}


def _resume_main(input: dict[str, Any], ctx: Any) -> dict[str, int]:
    n = input["n"]
    for i in range(n):
        ctx.jobs.flaky_child.trigger({"i": i, "last": n - 1})
    return {"done": n}


async def _sleeper(input: dict[str, Any]) -> dict[str, Any]:
    await asyncio.sleep(W4_SLEEP_SECONDS)
    return {"i": input["i"], "ok": True}


async def _fanout(input: dict[str, Any], ctx: Any) -> dict[str, int]:
    results = await asyncio.gather(*(ctx.jobs.sleeper({"i": i}) for i in range(input["n"])))
    return {"done": len(results)}


child = create_workflow_job(name="child", body=_child)
chain_main = create_workflow_job(name="chain-main", body=_chain, deps=[child])
many_main = create_workflow_job(name="many-main", body=_many, deps=[child])
flaky_child = create_workflow_job(name="flaky-child", body=_flaky_child)
resume_main = create_workflow_job(name="resume-main", body=_resume_main, deps=[flaky_child])
sleeper = create_workflow_job(name="sleeper", body=_sleeper)
fanout_main = create_workflow_job(name="fanout-main", body=_fanout, deps=[sleeper])

chain = create_workflow(name="chain", main_job=chain_main)
many = create_workflow(name="many", main_job=many_main)
resume = create_workflow(name="resume", main_job=resume_main)
fanout = create_workflow(name="fanout", main_job=fanout_main)
WORKFLOWS = [chain, many, resume, fanout]


def _run_to_end(engine: Any, workflow: Any, input: dict[str, Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    execution = engine.wait(engine.start(workflow, input))
    return execution, time.perf_counter() - started


def _check(execution: Any, expected: dict[str, int]) -> None:
    if execution.status != "SUCCESS" or execution.result != expected:
        raise AssertionError(f"execution ended {execution.status}: {execution.result!r}")


def _w1(engine: Any, n: int) -> dict[str, Any]:
    execution, elapsed = _run_to_end(engine, chain, {"n": n})
    _check(execution, {"done": n})
    return {"value": elapsed / n * 1e6}


def _w2(engine: Any, n: int) -> dict[str, Any]:
    started = time.perf_counter()
    ids = [engine.start(many, {"k": k}) for k in range(n)]
    engine.run_pending(concurrency=W2_CONCURRENCY)
    elapsed = time.perf_counter() - started
    for execution_id in ids:
        _check(engine.wait(execution_id), {"done": W2_CHILDREN_PER_EXECUTION})
    return {"value": n / elapsed, "details": {"concurrency": W2_CONCURRENCY}}


def _w3(engine: Any, n: int) -> dict[str, Any]:
    execution_id = engine.start(resume, {"n": n})
    failed = engine.wait(execution_id)
    if failed.status != "FAILED":
        raise AssertionError(f"the first run ended {failed.status}, not FAILED")
    started = time.perf_counter()
    engine.resume(execution_id)
    execution = engine.wait(execution_id)
    elapsed = time.perf_counter() - started
    _check(execution, {"done": n})
    once = all(_runs[i] == 1 for i in range(n - 1)) and _runs[n - 1] == 2
    return {
        "value": elapsed * 1e3,
        "details": {"exactly_once": once, "resume": "engine.resume in place (same id)"},
    }


def _w4(engine: Any, n: int) -> dict[str, Any]:
    execution, elapsed = _run_to_end(engine, fanout, {"n": n})
    _check(execution, {"done": n})
    return {"value": elapsed * 1e3}


_WORKLOADS = {"W1": _w1, "W2": _w2, "W3": _w3, "W4": _w4}


@contextlib.contextmanager
def _database(directory: Path, postgres_url: str | None) -> Iterator[tuple[str, str]]:
    if postgres_url is None:
        yield f"sqlite:///{directory / 'state.db'}", "fresh SQLite file"
    else:
        with pg.fresh_database(postgres_url) as found:
            yield found


def _trace_everything() -> int:
    """Install an OpenTelemetry SDK tracer provider whose spans go through a batch processor
    to an exporter that drops them (what tracing costs, not what a collector costs);
    returns the queue size."""
    from opentelemetry import trace
    from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

    class Dropping(SpanExporter):
        def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
            return SpanExportResult.SUCCESS

    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(Dropping(), max_queue_size=TRACE_QUEUE))
    trace.set_tracer_provider(provider)
    return TRACE_QUEUE


def run(
    workload: str,
    n: int,
    directory: Path,
    *,
    synchronous: str,
    postgres_url: str | None = None,
    traced: bool = False,
) -> dict[str, Any]:
    """Run one workload once on a fresh stackflow Engine and return its measurement
    (`traced`: with OpenTelemetry configured)."""
    from stackflow import Engine  # imported here: a missing engine makes this row n/a

    tracing = {"tracing": f"SDK, batch queue {_trace_everything()}"} if traced else {}
    with _database(directory, postgres_url) as (url, note):
        options = {} if postgres_url else {"sqlite_synchronous": synchronous}
        engine = Engine(database=url, workflows=WORKFLOWS, **options)
        engine.store  # launch: open and migrate the store, as DBOS.launch() does, untimed  # noqa: B018
        try:
            measured = _WORKLOADS[workload](engine, n)
        finally:
            engine.close()
    measured.setdefault("details", {})["database"] = note
    measured["details"].update(tracing)
    return measured

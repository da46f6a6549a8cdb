"""The span tree of executions: one trace per execution under its starter, runs and jobs as
spans with their parents, attributes, errors and links."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import SpanKind
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from span_tree import SpanTree, exception_types, failed, linked_to, parent_id

from stackflow import Engine, RetryPolicy, create_workflow, create_workflow_job
from stackflow.telemetry.observer import caller_trace_context, tracing_configured

ORDER = {"orderId": "o1", "customerId": "c1"}
REMOTE_TRACE_ID = 0x0AF7651916CD43DD8448EB211C80319C
REMOTE_SPAN_ID = 0xB7AD6B7169203331


def _tag(span: Any) -> str:
    context = span.context
    return f" trace_id={context.trace_id:032x} span_id={context.span_id:016x}"


def test_order_processing_is_one_trace_under_the_code_that_started_it(
    spans: SpanTree, order_project: Path
) -> None:
    with Engine.from_config(order_project / "stackflow.toml") as engine:
        with trace.get_tracer("test").start_as_current_span("place order") as caller:
            execution_id = engine.start("order-processing", ORDER, invoker="admin")
        execution = engine.wait(execution_id, run_here=True)

    assert execution.status == "SUCCESS"
    run = spans.one("workflow order-processing")
    main = spans.one("job process-order")
    fetch = spans.one("job process-order/fetch-customer")
    notify = spans.one("job process-order/send-notification")
    assert {span.context.trace_id for span in spans.all()} == {caller.get_span_context().trace_id}
    assert parent_id(run) == caller.get_span_context().span_id
    assert spans.children(run) == [main]
    assert spans.children(main) == [fetch, notify]
    assert run.kind == SpanKind.CONSUMER and not run.links
    assert dict(run.attributes or {}) == {
        "stackflow.execution_id": execution_id,
        "stackflow.workflow": "order-processing",
        "stackflow.status": "SUCCESS",
    }
    assert dict(fetch.attributes or {}) == {
        "stackflow.execution_id": execution_id,
        "stackflow.job": "fetch-customer",
        "stackflow.attempt": 1,
        "stackflow.status": "SUCCESS",
    }
    assert not any(failed(span) for span in spans.all())
    logs = {job.stacked_job_name: job.logs for job in execution.job_executions}
    assert logs["process-order/fetch-customer"].endswith(f"fetching customer c1{_tag(fetch)}")
    assert logs["process-order/send-notification"].endswith(f"is being processed{_tag(notify)}")


def _ok(input: dict[str, Any]) -> dict[str, bool]:
    return {"ok": True}


def _flaky(input: dict[str, Any]) -> dict[str, bool]:
    """Fails on its first call, succeeds afterwards (the mark file remembers)."""
    mark = Path(input["mark"])
    if not mark.exists():
        mark.touch()
        raise RuntimeError("the carrier is down")
    return {"sent": True}


ok = create_workflow_job(name="ok", body=_ok)
flaky = create_workflow_job(name="flaky", body=_flaky)


def _ship(input: dict[str, Any], ctx: Any) -> Any:
    ctx.jobs.ok.trigger({})
    return ctx.jobs.flaky.trigger({"mark": input["mark"]})


shipping = create_workflow(
    name="shipping", main_job=create_workflow_job(name="ship", body=_ship, deps=[ok, flaky])
)


def test_a_failed_run_and_its_resume_are_linked_spans_in_the_starters_trace(
    spans: SpanTree, store_url: str, tmp_path: Path
) -> None:
    arg = {"mark": str(tmp_path / "failed-once")}
    with Engine(store_url, [shipping]) as engine:
        with trace.get_tracer("test").start_as_current_span("ship it") as caller:
            execution_id = engine.start("shipping", arg)
        assert engine.wait(execution_id, run_here=True).status == "FAILED"
        first = spans.one("workflow shipping")
        engine.resume(execution_id)
        assert engine.wait(execution_id, run_here=True).status == "SUCCESS"

    first_run, second_run = spans.named("workflow shipping")
    assert first_run == first
    caller_context = caller.get_span_context()
    assert {span.context.trace_id for span in spans.all()} == {caller_context.trace_id}
    assert parent_id(first_run) == parent_id(second_run) == caller_context.span_id
    assert linked_to(second_run) == [first_run.context.span_id]

    assert failed(first_run) and first_run.attributes["stackflow.status"] == "FAILED"
    assert "RuntimeError: the carrier is down" in (first_run.status.description or "")
    [main] = spans.children(first_run)
    ok_span, flaky_span = spans.children(main)
    assert failed(main) and exception_types(main) == ["stackflow.errors.JobFailed"]
    assert not failed(ok_span) and ok_span.name == "job ship/ok"
    assert failed(flaky_span) and exception_types(flaky_span) == ["RuntimeError"]
    assert flaky_span.attributes["stackflow.status"] == "FAILED"

    [main_again] = spans.children(second_run)
    [flaky_again] = spans.children(main_again)  # ok's result comes from the record
    assert flaky_again.name == "job ship/flaky"
    assert main_again.attributes["stackflow.attempt"] == 2
    assert flaky_again.attributes["stackflow.attempt"] == 2
    assert not failed(second_run) and not failed(main_again) and not failed(flaky_again)


def test_an_execution_started_outside_any_span_is_a_trace_of_its_own(
    spans: SpanTree, store_url: str, tmp_path: Path
) -> None:
    with Engine(store_url, [shipping]) as engine:
        execution_id = engine.start("shipping", {"mark": str(tmp_path / "failed-once")})
        assert engine.wait(execution_id, run_here=True).status == "FAILED"
        engine.resume(execution_id)
        assert engine.wait(execution_id, run_here=True).status == "SUCCESS"

    first_run, second_run = spans.named("workflow shipping")
    assert first_run.parent is None  # the root of the execution's trace
    assert second_run.context.trace_id == first_run.context.trace_id
    assert parent_id(second_run) == first_run.context.span_id
    assert linked_to(second_run) == [first_run.context.span_id]


def test_a_caller_in_another_service_parents_the_runs(
    spans: SpanTree, store_url: str, tmp_path: Path
) -> None:
    incoming = {"traceparent": f"00-{REMOTE_TRACE_ID:032x}-{REMOTE_SPAN_ID:016x}-01"}
    token = otel_context.attach(TraceContextTextMapPropagator().extract(incoming))
    try:
        stored = caller_trace_context()
        with Engine(store_url, [shipping]) as engine:
            execution_id = engine.start("shipping", {"mark": str(tmp_path / "mark")})
    finally:
        otel_context.detach(token)
    assert stored is not None and incoming["traceparent"] in stored
    with Engine(store_url, [shipping]) as engine:  # a process of its own would do the same
        engine.wait(execution_id, run_here=True)
    run = spans.named("workflow shipping")[0]
    assert run.context.trace_id == REMOTE_TRACE_ID and parent_id(run) == REMOTE_SPAN_ID


def _fails_once(input: dict[str, Any]) -> dict[str, bool]:
    return _flaky(input)


retried = create_workflow_job(
    name="retried", body=_fails_once, retry_policy=RetryPolicy(1, initial_backoff="10ms")
)


def _call_retried(input: dict[str, Any], ctx: Any) -> Any:
    return ctx.jobs.retried.trigger(input)


retrying = create_workflow(
    name="retrying", main_job=create_workflow_job("calls", _call_retried, deps=[retried])
)


def test_a_job_retry_is_a_sibling_span_linked_to_the_failed_attempt(
    spans: SpanTree, store_url: str, tmp_path: Path
) -> None:
    with Engine(store_url, [retrying]) as engine:
        execution_id = engine.start("retrying", {"mark": str(tmp_path / "failed-once")})
        assert engine.wait(execution_id, run_here=True).status == "SUCCESS"
    main = spans.one("job calls")
    first, second = spans.named("job calls/retried")
    assert parent_id(first) == parent_id(second) == main.context.span_id
    assert [first.attributes["stackflow.attempt"], second.attributes["stackflow.attempt"]] == [1, 2]
    assert failed(first) and not failed(second)
    assert linked_to(second) == [first.context.span_id] and not first.links


async def _nap(input: dict[str, Any]) -> dict[str, int]:
    await asyncio.sleep(0.01)
    return {"i": input["i"]}


nap = create_workflow_job(name="nap", body=_nap)


async def _gather(input: dict[str, Any], ctx: Any) -> list[Any]:
    return list(await asyncio.gather(*(ctx.jobs.nap({"i": i}) for i in range(3))))


def _handles(input: dict[str, Any], ctx: Any) -> list[Any]:
    handles = [ctx.jobs.nap.start({"i": i}) for i in range(3)]
    return [handle.result() for handle in handles]


gathering = create_workflow(
    name="gathering", main_job=create_workflow_job("gather", _gather, deps=[nap])
)
handling = create_workflow(
    name="handling", main_job=create_workflow_job("handle", _handles, deps=[nap])
)


def test_parallel_children_are_sibling_spans(spans: SpanTree, store_url: str) -> None:
    with Engine(store_url, [gathering, handling]) as engine:
        for workflow in ("gathering", "handling"):
            execution_id = engine.start(workflow, {})
            assert engine.wait(execution_id, run_here=True).status == "SUCCESS"

    for main_name in ("job gather", "job handle"):
        main = spans.one(main_name)
        children = spans.children(main)
        assert len(children) == 3 and len({child.context.span_id for child in children}) == 3
        assert {child.name for child in children} == {f"{main_name}/nap"}
        assert {child.context.trace_id for child in children} == {main.context.trace_id}
        assert all(child.start_time < main.end_time for child in children)  # type: ignore[operator]


def test_without_a_tracer_provider_nothing_is_traced(store_url: str, tmp_path: Path) -> None:
    assert not tracing_configured()
    with trace.get_tracer("test").start_as_current_span("not recorded"):
        assert caller_trace_context() is None
        with Engine(store_url, [shipping]) as engine:
            execution_id = engine.start("shipping", {"mark": str(tmp_path / "mark")})
            engine.wait(execution_id, run_here=True)
            engine.resume(execution_id)
            execution = engine.wait(execution_id, run_here=True)
    assert execution.status == "SUCCESS"
    assert all("trace_id=" not in job.logs for job in execution.job_executions)

"""The caller's trace continues in a `stackflow worker` process set up by the OTEL_* variables."""

from __future__ import annotations

from pathlib import Path

from opentelemetry import trace
from span_tree import SpanTree
from worker_process import WorkerProcess, json_objects

from stackflow import Engine

ORDER = {"orderId": "o1", "customerId": "c1"}
CONSOLE_EXPORT = {
    "OTEL_TRACES_EXPORTER": "console",
    "OTEL_SERVICE_NAME": "order-worker",
    "OTEL_BSP_SCHEDULE_DELAY": "50",
}


def test_a_worker_continues_the_trace_of_the_code_that_started_the_execution(
    spans: SpanTree, worker_project: Path
) -> None:
    worker = WorkerProcess(worker_project, env=CONSOLE_EXPORT)
    try:
        worker.wait_started()
        with Engine.from_config(worker_project / "stackflow.toml") as engine:
            with trace.get_tracer("test").start_as_current_span("checkout") as caller:
                execution_id = engine.start("order-processing", ORDER, invoker="admin")
            execution = engine.wait(execution_id, timeout=30, run_here=False)
        assert execution.status == "SUCCESS"
        assert worker.stop() == 0, worker.stderr()
    finally:
        worker.kill()

    assert [span.name for span in spans.all()] == ["checkout"]  # nothing ran in this process
    exported = {span["name"]: span for span in json_objects(worker.stdout())}
    assert set(exported) == {
        "workflow order-processing",
        "job process-order",
        "job process-order/fetch-customer",
        "job process-order/send-notification",
    }
    caller_context = caller.get_span_context()
    run = exported["workflow order-processing"]
    assert run["parent_id"] == f"0x{caller_context.span_id:016x}"
    main = exported["job process-order"]
    for span in exported.values():
        assert span["context"]["trace_id"] == f"0x{caller_context.trace_id:032x}"
        assert span["resource"]["attributes"]["service.name"] == "order-worker"
        assert span["attributes"]["stackflow.execution_id"] == execution_id
    assert main["parent_id"] == run["context"]["span_id"]
    for child in ("fetch-customer", "send-notification"):
        assert exported[f"job process-order/{child}"]["parent_id"] == main["context"]["span_id"]
    fetch_ids = exported["job process-order/fetch-customer"]["context"]
    fetch_logs = next(j.logs for j in execution.job_executions if j.job_name == "fetch-customer")
    assert fetch_logs.endswith(
        f"trace_id={fetch_ids['trace_id'][2:]} span_id={fetch_ids['span_id'][2:]}"
    )


def test_an_exporter_no_package_provides_is_a_one_line_error(worker_project: Path) -> None:
    worker = WorkerProcess(worker_project, env={"OTEL_TRACES_EXPORTER": "zipkin_json_v9"})
    try:
        assert worker.process.wait(timeout=30) == 2
    finally:
        worker.kill()
    assert worker.stderr().strip() == (
        "Error: OTEL_TRACES_EXPORTER names the exporter 'zipkin_json_v9', which no installed "
        "package provides"
    )

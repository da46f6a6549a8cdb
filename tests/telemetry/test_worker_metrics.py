"""`stackflow worker --metrics-port`: Prometheus metrics of what the worker ran, scraped live."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
from commands import wait_until
from prometheus_client.parser import text_string_to_metric_families
from worker_process import WorkerProcess

from stackflow import Engine, create_workflow, create_workflow_job
from stackflow.clock import now_ms

ORDER = {"orderId": "o1", "customerId": "c1"}
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]
FINISHED = "stackflow_executions_finished_total"


def scrape(port: int) -> Samples:
    reply = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
    assert reply.status_code == 200
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(reply.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def _other(input: dict[str, object]) -> dict[str, object]:
    return input


elsewhere = create_workflow(name="elsewhere", main_job=create_workflow_job("other", _other))
"""A workflow the worker's project does not have: its executions stay PENDING."""


def _settled(port: int) -> Samples | None:
    """A scrape showing the six runs' ends (counted just after their last write) and the
    two executions of `elsewhere` (the store is read every 2 s)."""
    samples = scrape(port)
    ended = sum(v for (name, _), v in samples.items() if name == FINISHED)
    pending = value(samples, "stackflow_executions_pending", workflow="elsewhere")
    return samples if ended == 6 and pending == 2 else None


def test_scraped_counters_and_histograms_follow_what_the_worker_ran(
    worker_project: Path, store_url: str
) -> None:
    with Engine.from_config(worker_project / "stackflow.toml") as engine:
        abandoned = engine.start("order-processing", ORDER, invoker="admin")
        lease = engine.store.claim_execution(abandoned, "a-worker-that-died", 300, now_ms())
        assert lease is not None  # and never renewed: the worker takes it over
    worker = WorkerProcess(worker_project, "--metrics-port", "0")
    try:
        worker.wait_started()
        port = worker.metrics_port()
        before = scrape(port)
        with Engine.from_config(worker_project / "stackflow.toml") as engine:
            started = [engine.start("order-processing", ORDER, invoker="admin") for _ in range(3)]
            started += [engine.start("explode", {}), engine.start("slow", {})]
            statuses = [engine.wait(e, timeout=30, run_here=False).status for e in started]
            assert engine.wait(abandoned, timeout=30, run_here=False).status == "SUCCESS"
        assert statuses == ["SUCCESS"] * 3 + ["FAILED", "SUCCESS"]
        with Engine(store_url, [elsewhere]) as other:
            for _ in range(2):
                other.start(elsewhere, {})
        after = wait_until(lambda: _settled(port), 10, "the runs and pending executions to show")
    finally:
        worker.kill()

    assert value(before, "stackflow_executions_started_total", workflow="order-processing") == 0
    pending_key = ("stackflow_executions_pending", frozenset({("workflow", "order-processing")}))
    assert before[pending_key] == 0  # known workflows show 0, not nothing
    # the abandoned execution's first run was the dead worker's: this one took it over
    assert value(after, "stackflow_executions_started_total", workflow="order-processing") == 3
    assert value(after, "stackflow_lease_takeovers_total") == 1
    assert value(after, FINISHED, workflow="order-processing", status="SUCCESS") == 4
    assert value(after, FINISHED, workflow="explode", status="FAILED") == 1
    assert value(after, FINISHED, workflow="slow", status="SUCCESS") == 1
    assert value(after, "stackflow_job_duration_seconds_count", job="fetch-customer") == 4
    assert value(after, "stackflow_job_duration_seconds_count", job="boom") == 1
    nap_buckets = {
        bound: value(after, "stackflow_job_duration_seconds_bucket", job="nap", le=bound)
        for bound in ("0.1", "0.25", "2.5", "+Inf")
    }
    assert nap_buckets == {"0.1": 0, "0.25": 0, "2.5": 1, "+Inf": 1}  # it naps 0.3 s
    assert value(after, "stackflow_job_duration_seconds_sum", job="nap") >= 0.3
    claims = "stackflow_claim_latency_seconds_count"
    assert value(after, claims, workflow="order-processing") == 4
    assert value(after, "stackflow_executions_pending", workflow="order-processing") == 0
    assert value(after, "stackflow_executions_pending_age_seconds", workflow="elsewhere") > 0
    assert value(after, "stackflow_store_up") == 1


def test_a_port_in_use_is_a_one_line_error(worker_project: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = taken.getsockname()[1]
        worker = WorkerProcess(worker_project, "--metrics-port", str(port))
        try:
            assert worker.process.wait(timeout=30) == 2
        finally:
            worker.kill()
    assert worker.stderr().strip() == (
        f"Error: Port {port} is already in use: choose another with --metrics-port."
    )

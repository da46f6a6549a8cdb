"""Prometheus metrics: what this process ran, and the store's pending work at scrape time."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
    start_http_server,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from stackflow.records import ExecutionStatus

if TYPE_CHECKING:
    from stackflow.store.base import PendingWork

    PendingReader = Callable[[], Sequence[PendingWork]]

__all__ = ["CONTENT_TYPE_LATEST", "EngineMetrics", "MetricsServer"]

PENDING_CACHE_SECONDS = 2.0
"""Scrapes within this long of a store read reuse it (several scrapers cost one query)."""
JOB_SECONDS_BUCKETS = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
    60.0, 300.0, 1800.0,
)  # fmt: skip
"""Job executions run from well under a millisecond to many minutes."""
CLAIM_SECONDS_BUCKETS = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
    300.0, 1800.0, 3600.0,
)  # fmt: skip


class EngineMetrics:
    """The metrics of one engine, in a registry of their own (`registry`)."""

    def __init__(self, pending: PendingReader, workflows: Iterable[str] = ()) -> None:
        self.registry = CollectorRegistry()
        registry = self.registry
        self.started = Counter(
            "stackflow_executions_started",
            "Executions whose first run started in this process.",
            ["workflow"],
            registry=registry,
        )
        self.finished = Counter(
            "stackflow_executions_finished",
            "Runs in this process that left their execution SUCCESS, FAILED or CANCELED.",
            ["workflow", "status"],
            registry=registry,
        )
        self.job_seconds = Histogram(
            "stackflow_job_duration_seconds",
            "How long job executions run in this process took (SUCCESS or FAILED), by job name.",
            ["job"],
            buckets=JOB_SECONDS_BUCKETS,
            registry=registry,
        )
        self.takeovers = Counter(
            "stackflow_lease_takeovers",
            "Claims by this process of executions whose previous owner's lease had expired.",
            registry=registry,
        )
        self.claim_seconds = Histogram(
            "stackflow_claim_latency_seconds",
            "Seconds from an execution becoming runnable (started, resumed, resolved, "
            "released, due, or its lease expired) to its claim by this process.",
            ["workflow"],
            buckets=CLAIM_SECONDS_BUCKETS,
            registry=registry,
        )
        registry.register(PendingCollector(pending, workflows))
        ProcessCollector(registry=registry)
        PlatformCollector(registry=registry)

    # the RunMetrics protocol
    def run_claimed(
        self, workflow: str, *, first_run: bool, taken_over: bool, waited_seconds: float | None
    ) -> None:
        if first_run:
            self.started.labels(workflow).inc()
        if taken_over:
            self.takeovers.inc()
        if waited_seconds is not None:
            self.claim_seconds.labels(workflow).observe(waited_seconds)

    def run_ended(self, workflow: str, status: ExecutionStatus) -> None:
        self.finished.labels(workflow, str(status)).inc()

    def job_ended(self, job: str, seconds: float) -> None:
        self.job_seconds.labels(job).observe(seconds)

    def exposition(self) -> bytes:
        """The metrics in the Prometheus text format."""
        return generate_latest(self.registry)


class PendingCollector(Collector):
    """`stackflow_executions_pending{workflow}` and the age of the longest wait, read from
    the store at scrape time (one grouped query, reused for PENDING_CACHE_SECONDS)."""

    def __init__(self, read: PendingReader, workflows: Iterable[str]) -> None:
        self._read = read
        self._workflows = sorted(workflows)
        self._lock = threading.Lock()
        self._cached: tuple[float, Sequence[PendingWork] | None] = (float("-inf"), None)

    def describe(self) -> Iterable[Metric]:
        return list(self._families())  # no store read when registered

    def collect(self) -> Iterable[Metric]:
        work = self._pending_work()
        pending, age, store_up = self._families()
        store_up.add_metric([], 0.0 if work is None else 1.0)
        counts = {name: 0 for name in self._workflows}
        now = time.time()
        for item in work or ():
            counts[item.workflow_name] = item.count
            age.add_metric([item.workflow_name], max(now - item.waiting_since_ms / 1000, 0.0))
        if work is not None:
            for name, count in sorted(counts.items()):
                pending.add_metric([name], float(count))
        return [pending, age, store_up]

    def _families(self) -> Iterator[GaugeMetricFamily]:
        yield GaugeMetricFamily(
            "stackflow_executions_pending",
            "Executions waiting for a worker (PENDING or PENDING_RESUME), in the whole store.",
            labels=["workflow"],
        )
        yield GaugeMetricFamily(
            "stackflow_executions_pending_age_seconds",
            "How long the execution waiting longest for a worker has waited.",
            labels=["workflow"],
        )
        yield GaugeMetricFamily(
            "stackflow_store_up", "1 if the last read of the store for these metrics worked."
        )

    def _pending_work(self) -> Sequence[PendingWork] | None:
        with self._lock:
            read_at, work = self._cached
            if time.monotonic() - read_at < PENDING_CACHE_SECONDS:
                return work
            try:
                work = self._read()
            except Exception:  # an unreachable store: stackflow_store_up 0, the scrape works
                work = None
            self._cached = (time.monotonic(), work)
            return work


class MetricsServer:
    """`EngineMetrics` served over HTTP on their own thread (`stackflow worker --metrics-port`)."""

    def __init__(self, metrics: EngineMetrics, port: int, host: str = "0.0.0.0") -> None:
        self.server, self._thread = start_http_server(port, host, registry=metrics.registry)

    @property
    def port(self) -> int:
        """The port it listens on (the one the system chose for port 0)."""
        return int(self.server.server_port)

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()

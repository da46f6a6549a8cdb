"""What a run reports while it runs: spans when tracing is on, metrics when a sink is set.

Nothing here imports OpenTelemetry: tracing counts as on only when the application (or
`stackflow`'s own set-up from the OTEL_* variables) has imported it and installed a tracer
provider, and that is checked once per run. With neither tracing nor a metrics sink, a run
has no observer and its jobs pay one `is None` check each.
"""

from __future__ import annotations

import json
import sys
import time
from typing import TYPE_CHECKING, Protocol

from stackflow.clock import now_ms
from stackflow.records import ExecutionStatus, JobStatus

if TYPE_CHECKING:
    from stackflow.store.base import Lease
    from stackflow.telemetry.tracing import JobSpan, RunSpans

FINISHED = frozenset({ExecutionStatus.SUCCESS, ExecutionStatus.FAILED, ExecutionStatus.CANCELED})
"""The statuses that end an execution (counted by `stackflow_executions_finished_total`)."""
JOB_FINISHED = frozenset({JobStatus.SUCCESS, JobStatus.FAILED})
"""The job execution statuses whose duration is observed."""


class RunMetrics(Protocol):
    """Where a run's measurements go (the Prometheus metrics of `telemetry.metrics`)."""

    def run_claimed(
        self, workflow: str, *, first_run: bool, taken_over: bool, waited_seconds: float | None
    ) -> None:
        """A run of an execution of `workflow` starts here."""
        ...

    def run_ended(self, workflow: str, status: ExecutionStatus) -> None:
        """A run ended leaving its execution in `status`."""
        ...

    def job_ended(self, job: str, seconds: float) -> None:
        """A job execution of `job` finished (SUCCESS or FAILED) after `seconds`."""
        ...


def tracing_configured() -> bool:
    """Whether an OpenTelemetry tracer provider is installed (without importing OpenTelemetry)."""
    trace_api = sys.modules.get("opentelemetry.trace")
    if trace_api is None:
        return False
    provider = trace_api.get_tracer_provider()
    return not isinstance(provider, trace_api.ProxyTracerProvider | trace_api.NoOpTracerProvider)


def caller_trace_context() -> str | None:
    """The W3C trace context of the calling code as JSON, when tracing is on and it has one."""
    if not tracing_configured():
        return None
    from stackflow.telemetry import tracing  # OpenTelemetry is optional: only when it is on

    return tracing.caller_context_json()


def flush_traces(timeout_seconds: float = 5.0) -> None:
    """Export the spans still buffered (before a process ends without running atexit)."""
    if tracing_configured():
        provider = sys.modules["opentelemetry.trace"].get_tracer_provider()
        flush = getattr(provider, "force_flush", None)
        if flush is not None:
            flush(int(timeout_seconds * 1000))


def observe_run(lease: Lease, metrics: RunMetrics | None) -> RunObserver | None:
    """The observer of one run, or None when nothing observes it."""
    spans = None
    if tracing_configured():
        from stackflow.telemetry.tracing import RunSpans  # OpenTelemetry is optional

        spans = RunSpans(lease)
    if spans is None and metrics is None:
        return None
    return RunObserver(lease, metrics, spans)


class RunObserver:
    """Reports one run of an execution and its job executions."""

    def __init__(self, lease: Lease, metrics: RunMetrics | None, spans: RunSpans | None) -> None:
        self.lease = lease
        self.metrics = metrics
        self.spans = spans

    def run_started(self) -> str | None:
        """Count the claim and open the workflow span; the trace context to store, if any."""
        lease = self.lease
        if self.metrics is not None:
            since = lease.runnable_since_ms
            waited = None if since is None else max(now_ms() - since, 0) / 1000
            self.metrics.run_claimed(
                lease.workflow_name,
                first_run=lease.first_run,
                taken_over=lease.taken_over,
                waited_seconds=waited,
            )
        return self.spans.begin() if self.spans is not None else None

    def run_ended(
        self,
        status: ExecutionStatus | None,
        error_json: str | None = None,
        raised: BaseException | None = None,
    ) -> None:
        """Close the workflow span; count a finished execution. `status` None: it stopped
        without an outcome (lost or released lease, or `raised`)."""
        if self.metrics is not None and status in FINISHED:
            assert status is not None
            self.metrics.run_ended(self.lease.workflow_name, status)
        if self.spans is not None:
            message = _error_message(error_json) if status == ExecutionStatus.FAILED else None
            self.spans.end(status, message, raised)

    def job_started(
        self, stacked_job_name: str, job_name: str, attempt: int, previous: JobObservation | None
    ) -> JobObservation:
        """Start observing a job execution (its span becomes the current one)."""
        span = None
        if self.spans is not None:
            earlier = previous.span if previous is not None else None
            span = self.spans.start_job(stacked_job_name, job_name, attempt, earlier)
        return JobObservation(job_name, self.metrics, span)


class JobObservation:
    """One job execution being observed: its span and its duration."""

    __slots__ = ("_metrics", "_started", "job_name", "span")

    def __init__(self, job_name: str, metrics: RunMetrics | None, span: JobSpan | None) -> None:
        self.job_name = job_name
        self._metrics = metrics
        self.span = span
        self._started = time.perf_counter()

    @property
    def log_tag(self) -> str:
        """What each of the job's log lines ends with (its trace and span ids, if traced)."""
        return self.span.log_tag if self.span is not None else ""

    def failed(self, error: BaseException) -> None:
        """The body raised `error`: the job execution fails with it."""
        if self.span is not None:
            self.span.failed(error)

    def ended(self, status: JobStatus) -> None:
        """The attempt is over with `status` (WAITING: it waits; RUNNING: it was stopped)."""
        if self._metrics is not None and status in JOB_FINISHED:
            self._metrics.job_ended(self.job_name, time.perf_counter() - self._started)
        if self.span is not None:
            self.span.end(status)


def _error_message(error_json: str | None) -> str | None:
    if not error_json:
        return None
    error = json.loads(error_json)
    return f"{error.get('type', 'Error')}: {error.get('message', '')}"

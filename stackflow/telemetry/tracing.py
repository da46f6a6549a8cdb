"""OpenTelemetry spans of execution runs and job executions (imported only when tracing is on).

The trace context stored with an execution is a JSON object of W3C headers: `traceparent`
(and `tracestate`) of the code that started it, which parents every run's span, and
`stackflow-run`, the `traceparent` of the latest run's span, which the next run links to.
An execution started outside any span has its first run's span as the root of its trace.
"""

from __future__ import annotations

import json
from contextvars import Token
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Link, Span, SpanContext, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from stackflow.errors import LeaseLost
from stackflow.records import ExecutionStatus, JobStatus

if TYPE_CHECKING:
    from stackflow.store.base import Lease

TRACER_NAME = "stackflow"
LAST_RUN = "stackflow-run"
"""The key of the stored trace context holding the latest run's `traceparent`."""
EXECUTION_ID = "stackflow.execution_id"
WORKFLOW = "stackflow.workflow"
JOB = "stackflow.job"
ATTEMPT = "stackflow.attempt"
STATUS = "stackflow.status"
TAKEN_OVER = "stackflow.taken_over"

_W3C = TraceContextTextMapPropagator()


def _stackflow_version() -> str:
    try:
        return version("stackflow")
    except PackageNotFoundError:
        return "0"


_tracer_version = _stackflow_version()


def caller_context_json() -> str | None:
    """The current span's W3C trace context as JSON (None outside any span)."""
    carrier: dict[str, str] = {}
    _W3C.inject(carrier)
    return json.dumps(carrier, sort_keys=True) if carrier else None


def _traceparent_of(span: Span) -> dict[str, str]:
    carrier: dict[str, str] = {}
    _W3C.inject(carrier, context=trace.set_span_in_context(span))
    return carrier


def _span_context(traceparent: str) -> SpanContext | None:
    found = trace.get_current_span(_W3C.extract({"traceparent": traceparent})).get_span_context()
    return found if found.is_valid else None


def _stored(trace_context: str | None) -> dict[str, str]:
    if not trace_context:
        return {}
    try:
        found = json.loads(trace_context)
    except ValueError:
        return {}
    return {k: v for k, v in found.items() if isinstance(v, str)} if isinstance(found, dict) else {}


class RunSpans:
    """The spans of one run of an execution: `workflow <name>` and a `job <stacked job name>`
    span per job execution, parented by whichever span called it."""

    def __init__(self, lease: Lease) -> None:
        self.lease = lease
        self._stored = _stored(lease.trace_context)
        self._tracer = trace.get_tracer(TRACER_NAME, _tracer_version)
        self._span: Span | None = None
        self._token: Token[Context] | None = None

    def begin(self) -> str | None:
        """Open the run's span and make it current; the trace context to store now."""
        lease = self.lease
        parent = _W3C.extract(self._stored) if "traceparent" in self._stored else None
        previous = _span_context(self._stored.get(LAST_RUN, ""))
        attributes: dict[str, str | bool] = {
            EXECUTION_ID: lease.execution_id,
            WORKFLOW: lease.workflow_name,
        }
        if lease.taken_over:
            attributes[TAKEN_OVER] = True
        span = self._tracer.start_span(
            f"workflow {lease.workflow_name}",
            context=parent if parent is not None else otel_context.Context(),
            kind=SpanKind.CONSUMER,
            attributes=attributes,
            links=[Link(previous)] if previous is not None else None,
        )
        self._span = span
        self._token = otel_context.attach(trace.set_span_in_context(span))
        return self._to_store(span)

    def _to_store(self, span: Span) -> str | None:
        own = _traceparent_of(span)
        if "traceparent" not in own:
            return None
        stored = dict(self._stored) if "traceparent" in self._stored else dict(own)
        stored[LAST_RUN] = own["traceparent"]
        return json.dumps(stored, sort_keys=True)

    def end(
        self, status: ExecutionStatus | None, error: str | None, raised: BaseException | None
    ) -> None:
        """Close the run's span with the status it left the execution in."""
        span = self._span
        if span is None:
            return
        if status is not None:
            span.set_attribute(STATUS, str(status))
        if error is not None:
            span.set_status(Status(StatusCode.ERROR, error))
        elif raised is not None and not isinstance(raised, LeaseLost):
            span.record_exception(raised)
            span.set_status(Status(StatusCode.ERROR, f"{type(raised).__name__}: {raised}"))
        span.end()
        if self._token is not None:
            otel_context.detach(self._token)

    def start_job(
        self, stacked_job_name: str, job_name: str, attempt: int, previous: JobSpan | None
    ) -> JobSpan:
        """Open a job execution's span under the current one (its caller's) and make it
        current; a retry links to its previous attempt."""
        span = self._tracer.start_span(
            f"job {stacked_job_name}",
            attributes={
                EXECUTION_ID: self.lease.execution_id,
                JOB: job_name,
                ATTEMPT: attempt,
            },
            links=[Link(previous.span.get_span_context())] if previous is not None else None,
        )
        return JobSpan(span, otel_context.attach(trace.set_span_in_context(span)))


class JobSpan:
    """The span of one job execution, current while its body runs."""

    __slots__ = ("_token", "log_tag", "span")

    def __init__(self, span: Span, token: Token[Context]) -> None:
        self.span = span
        self._token = token
        context = span.get_span_context()
        self.log_tag = f" trace_id={context.trace_id:032x} span_id={context.span_id:016x}"

    def failed(self, error: BaseException) -> None:
        """Record the exception the job execution failed with."""
        self.span.record_exception(error)
        self.span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"))

    def end(self, status: JobStatus) -> None:
        """Close the span with the job execution's status; its caller's span is current again."""
        self.span.set_attribute(STATUS, str(status))
        self.span.end()
        otel_context.detach(self._token)

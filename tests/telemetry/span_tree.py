"""Reading finished spans as a tree: by name, parent, trace and link."""

from __future__ import annotations

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode


class SpanTree:
    """The finished spans of one test."""

    def __init__(self, exporter: InMemorySpanExporter) -> None:
        self.exporter = exporter

    def all(self) -> list[ReadableSpan]:
        return list(self.exporter.get_finished_spans())

    def named(self, name: str) -> list[ReadableSpan]:
        """The spans called `name`, in the order they started."""
        found = [span for span in self.all() if span.name == name]
        return sorted(found, key=lambda span: span.start_time or 0)

    def one(self, name: str) -> ReadableSpan:
        found = self.named(name)
        assert len(found) == 1, [span.name for span in self.all()]
        return found[0]

    def children(self, parent: ReadableSpan) -> list[ReadableSpan]:
        """The spans whose parent is `parent`, in the order they started."""
        span_id = parent.context.span_id
        found = [s for s in self.all() if s.parent is not None and s.parent.span_id == span_id]
        return sorted(found, key=lambda span: span.start_time or 0)

    def clear(self) -> None:
        self.exporter.clear()


def parent_id(span: ReadableSpan) -> int | None:
    return span.parent.span_id if span.parent is not None else None


def linked_to(span: ReadableSpan) -> list[int]:
    """The span ids `span` links to."""
    return [link.context.span_id for link in span.links]


def failed(span: ReadableSpan) -> bool:
    return span.status.status_code == StatusCode.ERROR


def exception_types(span: ReadableSpan) -> list[str]:
    """The types of the exceptions recorded on `span`."""
    return [
        str(event.attributes["exception.type"])
        for event in span.events
        if event.name == "exception" and event.attributes is not None
    ]

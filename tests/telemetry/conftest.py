"""Telemetry fixtures: an OpenTelemetry SDK with an in-memory exporter, for one test at a time."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.util._once import Once
from span_tree import SpanTree
from worker_process import add_workflows


@pytest.fixture
def spans(monkeypatch: pytest.MonkeyPatch) -> Iterator[SpanTree]:
    """The spans this test's code ends, from a tracer provider installed for this test only.

    The API lets a process set its global provider once; like OpenTelemetry's own test
    utilities, the fixture sets (and afterwards restores) the globals directly, so no later
    test runs traced.
    """
    exporter = InMemorySpanExporter()
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(trace, "_TRACER_PROVIDER_SET_ONCE", Once())
    monkeypatch.setattr(trace, "_TRACER_PROVIDER", None)
    trace.set_tracer_provider(provider)
    yield SpanTree(exporter)
    provider.shutdown()


@pytest.fixture
def order_project(tmp_path: Path, store_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    """examples/order-processing, copied, on a fresh store of each backend."""
    source = Path(__file__).resolve().parents[2] / "examples" / "order-processing"
    root = tmp_path / "order-processing"
    shutil.copytree(source, root, ignore=shutil.ignore_patterns(".stackflow", "__pycache__"))
    monkeypatch.setenv("STACKFLOW_DATABASE_URL", store_url)
    return root


@pytest.fixture
def worker_project(order_project: Path) -> Path:
    """The order-processing copy with two more workflows: `explode` fails, `slow` naps."""
    add_workflows(order_project)
    return order_project

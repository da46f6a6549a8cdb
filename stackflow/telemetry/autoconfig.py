"""Tracing set up from the standard OTEL_* variables, for the processes `stackflow` starts.

`OTEL_TRACES_EXPORTER` (e.g. `otlp`, `console`) turns it on; the SDK reads the rest itself:
`OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_TRACES_SAMPLER(_ARG)`, `OTEL_BSP_*` and
the exporter's own variables (`OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_EXPORTER_OTLP_PROTOCOL`,
...). An application that installed its own tracer provider (or runs under
`opentelemetry-instrument`) keeps it.
"""

from __future__ import annotations

import os
from importlib.metadata import entry_points
from typing import Any

from stackflow.errors import ConfigError
from stackflow.telemetry.observer import tracing_configured

EXPORTER_VARIABLE = "OTEL_TRACES_EXPORTER"
DEFAULT_SERVICE_NAME = "stackflow"
_OTLP_BY_PROTOCOL = {"grpc": "otlp_proto_grpc", "http/protobuf": "otlp_proto_http"}
MISSING_SDK = (
    f"Note: {EXPORTER_VARIABLE} is set but the OpenTelemetry SDK is not installed, so no "
    "traces are exported: pip install 'stackflow[otel]'"
)


def exporter_names() -> list[str]:
    """The exporters OTEL_TRACES_EXPORTER names (none when unset, `none`, or the SDK is off)."""
    names = [name.strip() for name in os.environ.get(EXPORTER_VARIABLE, "").split(",")]
    names = [name for name in names if name and name.lower() != "none"]
    if os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return []
    return names


def configure_tracing_from_environment() -> str | None:
    """Install an SDK tracer provider exporting to the named exporters, unless one is set.

    Returns a note for the user when the variables ask for tracing that cannot be had;
    raises ConfigError for an exporter no installed package provides.
    """
    names = exporter_names()
    if not names or tracing_configured():
        return None
    try:
        from opentelemetry import trace
        from opentelemetry.sdk.resources import SERVICE_NAME, Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError:  # the otel extra is not installed
        return MISSING_SDK
    exporters = [_exporter_class(name)() for name in names]
    resource = Resource.create()
    if str(resource.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
        resource = resource.merge(Resource({SERVICE_NAME: DEFAULT_SERVICE_NAME}))
    provider = TracerProvider(resource=resource)  # the sampler comes from OTEL_TRACES_SAMPLER
    for exporter in exporters:
        provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    return None


def _exporter_class(name: str) -> Any:
    entry_name = _entry_point_name(name)
    found = entry_points(group="opentelemetry_traces_exporter", name=entry_name)
    if not found:
        hint = " (pip install opentelemetry-exporter-otlp)" if name.startswith("otlp") else ""
        raise ConfigError(
            f"{EXPORTER_VARIABLE} names the exporter '{name}', which no installed package "
            f"provides{hint}"
        )
    return next(iter(found)).load()


def _entry_point_name(name: str) -> str:
    if name != "otlp":
        return name
    protocol = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or os.environ.get(
        "OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"
    )
    entry_name = _OTLP_BY_PROTOCOL.get(protocol.strip())
    if entry_name is None:
        raise ConfigError(f"OTEL_EXPORTER_OTLP_PROTOCOL is '{protocol}': use grpc or http/protobuf")
    return entry_name

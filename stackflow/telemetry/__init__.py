"""Observability: OpenTelemetry spans, Prometheus metrics and JSON logs, each optional."""

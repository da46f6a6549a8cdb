"""`GET /metrics`: the engine's Prometheus metrics (the same token as the API, when one is set)."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from stackflow.engine.engine import Engine

if TYPE_CHECKING:
    from stackflow.telemetry.metrics import EngineMetrics


class MetricsEndpoint:
    """Serves the engine's metrics, made on the first scrape (prometheus_client loads then).

    An engine that already reports to Prometheus metrics (a worker in this process) is
    served as it is; otherwise the engine starts reporting to the ones made here, so any
    execution this process runs is counted.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._metrics: EngineMetrics | None = None
        self._lock = threading.Lock()

    def route(self, guards: list[Middleware] | None) -> Route:
        """`/metrics`, behind `guards` (the bearer token, when the app has one)."""
        return Route("/metrics", self.scrape, methods=["GET"], middleware=guards)

    def scrape(self, request: Request) -> Response:
        """The metrics in the Prometheus text format (run on a worker thread: it may read
        the store)."""
        from stackflow.telemetry.metrics import CONTENT_TYPE_LATEST  # loaded on first scrape

        return Response(self._engine_metrics().exposition(), media_type=CONTENT_TYPE_LATEST)

    def _engine_metrics(self) -> EngineMetrics:
        from stackflow.telemetry.metrics import EngineMetrics  # loaded on first scrape

        with self._lock:
            if self._metrics is None:
                if isinstance(self.engine.metrics, EngineMetrics):
                    self._metrics = self.engine.metrics
                else:
                    engine = self.engine
                    self._metrics = EngineMetrics(engine.pending_work, engine.workflows)
                    if engine.metrics is None:
                        engine.metrics = self._metrics
            return self._metrics

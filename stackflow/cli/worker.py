"""`stackflow worker`: run executions until SIGTERM/SIGINT (a second signal releases them)."""

from __future__ import annotations

import errno
import logging
import os
import signal
import socket
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import IO, NoReturn

import click

from stackflow.cli.common import UsageError, config_option, exit_code_for, start_tracing
from stackflow.cli.workflow import open_engine
from stackflow.config import WORKER_LOG_FORMATS, WorkerSettings
from stackflow.engine.engine import Engine
from stackflow.engine.worker import DEFAULT_CONCURRENCY, Worker
from stackflow.errors import StackflowError
from stackflow.telemetry.logformat import TEXT, worker_logger, writes_json
from stackflow.telemetry.observer import flush_traces

METRICS_HOST = "0.0.0.0"
"""Metrics are served on every interface, for a scraper on another machine."""


class LoggedError(click.ClickException):
    """An error already written to the worker's JSON log: only its exit code is left."""

    def __init__(self, exit_code: int) -> None:
        super().__init__("")
        self.exit_code = exit_code

    def show(self, file: IO[str] | None = None) -> None:
        return None


STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def _install_stop_handlers(worker: Worker) -> None:
    """SIGTERM and SIGINT ask the worker to stop (a second one: to release what it runs).

    A Python signal handler runs between two bytecodes of the main thread, which may
    hold the very lock `request_stop` needs (waking the loop sets an Event): so the
    handlers do nothing, and the signal numbers, written by the interpreter to a
    socket (`signal.set_wakeup_fd`), reach a thread that calls `request_stop`.
    """
    reader, writer = socket.socketpair()
    writer.setblocking(False)
    signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)

    def forward(reader: socket.socket, writer: socket.socket) -> None:
        # holds `writer` too: the interpreter writes to its descriptor, which must stay open
        while received := reader.recv(64):
            for number in received:
                if number in STOP_SIGNALS:
                    worker.request_stop()

    thread = threading.Thread(
        target=forward, args=(reader, writer), name="stackflow-signals", daemon=True
    )
    thread.start()
    for number in STOP_SIGNALS:
        signal.signal(number, _ignore)


def _ignore(signum: int, frame: FrameType | None) -> None:
    """Keep the default action (exit) away: the stop itself is forwarded (see above)."""


@click.command("worker")
@click.option(
    "--concurrency",
    type=int,
    default=DEFAULT_CONCURRENCY,
    show_default=True,
    help="How many executions to run at once.",
)
@click.option(
    "--metrics-port",
    type=int,
    default=None,
    help="Serve Prometheus metrics at http://HOST:PORT/metrics (0: any free port)  "
    "[default: [worker] metrics_port, else none].",
)
@click.option(
    "--log-format",
    type=click.Choice(WORKER_LOG_FORMATS),
    default=None,
    help="text lines, or one JSON object per line  [default: [worker] log_format, else text].",
)
@config_option
def worker(
    concurrency: int, metrics_port: int | None, log_format: str | None, config_path: str | None
) -> None:
    """Claim and run the project's executions until stopped (SIGTERM/SIGINT drain)."""
    if concurrency < 1:
        raise UsageError(f"--concurrency must be at least 1, got {concurrency}.")
    if metrics_port is not None and not 0 <= metrics_port <= 65535:
        raise UsageError(f"--metrics-port must be between 0 and 65535, got {metrics_port}.")
    logger = worker_logger(log_format or TEXT, sys.stderr)
    try:
        _run(logger, concurrency, metrics_port, log_format, config_path)
    except (StackflowError, click.ClickException) as error:
        if not writes_json(logger):
            raise
        _log_error(logger, error)
    flush_traces()


def _run(
    logger: logging.Logger,
    concurrency: int,
    metrics_port: int | None,
    log_format: str | None,
    config_path: str | None,
) -> None:
    start_tracing(logger.warning)
    with open_engine(config_path, runs_jobs=True) as engine:
        settings = _settings(engine)
        if log_format is None and settings.log_format != TEXT:
            logger = worker_logger(settings.log_format, sys.stderr)
        running = Worker(engine, concurrency, logger=logger)
        port = metrics_port if metrics_port is not None else settings.metrics_port
        with _serving_metrics(engine, port, running):
            _install_stop_handlers(running)
            running.run()
        if running.abandoned:
            # Released executions' threads are still running their jobs: leave them behind
            # at once (their writes are refused since the release; the store needs no close).
            flush_traces()
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(0)


def _settings(engine: Engine) -> WorkerSettings:
    project = engine.project
    return project.config.worker if project is not None else WorkerSettings()


@contextmanager
def _serving_metrics(engine: Engine, port: int | None, running: Worker) -> Iterator[None]:
    """Serve the engine's Prometheus metrics on `port` while the worker runs."""
    if port is None:
        yield
        return
    from stackflow.telemetry.metrics import EngineMetrics, MetricsServer  # ~0.1 s to import

    metrics = EngineMetrics(engine.pending_work, engine.workflows)
    try:
        server = MetricsServer(metrics, port, METRICS_HOST)
    except OSError as error:
        raise UsageError(_bind_error(port, error)) from None
    engine.metrics = metrics
    running.log(logging.INFO, f"serving metrics on port {server.port} at /metrics")
    try:
        yield
    finally:
        server.close()


def _bind_error(port: int, error: OSError) -> str:
    if error.errno == errno.EADDRINUSE:
        return f"Port {port} is already in use: choose another with --metrics-port."
    return f"Cannot serve metrics on port {port}: {error.strerror or error}."


def _log_error(logger: logging.Logger, error: BaseException) -> NoReturn:
    """Write the error as one JSON line (not the usual `Error: ...` text) and exit."""
    message = error.format_message() if isinstance(error, click.ClickException) else str(error)
    logger.error(f"Error: {message}", extra={"error": message})
    code = error.exit_code if isinstance(error, click.ClickException) else exit_code_for(error)
    raise LoggedError(code) from None

"""`stackflow worker`: run executions until SIGTERM/SIGINT (a second signal releases them)."""

from __future__ import annotations

import os
import signal
import sys
from types import FrameType

import click

from stackflow.cli.common import UsageError, config_option
from stackflow.cli.workflow import open_engine
from stackflow.engine.worker import DEFAULT_CONCURRENCY, Worker


def _log(line: str) -> None:
    click.echo(line, err=True)


def _install_stop_handlers(worker: Worker) -> None:
    def stop(signum: int, frame: FrameType | None) -> None:
        worker.request_stop()  # only a flag: the worker's loop says it is stopping

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)


@click.command("worker")
@click.option(
    "--concurrency",
    type=int,
    default=DEFAULT_CONCURRENCY,
    show_default=True,
    help="How many executions to run at once.",
)
@config_option
def worker(concurrency: int, config_path: str | None) -> None:
    """Claim and run the project's executions until stopped (SIGTERM/SIGINT drain)."""
    if concurrency < 1:
        raise UsageError(f"--concurrency must be at least 1, got {concurrency}.")
    with open_engine(config_path, runs_jobs=True) as engine:
        running = Worker(engine, concurrency, log=_log)
        _install_stop_handlers(running)
        running.run()
        if running.abandoned:
            # Released executions' threads are still running their jobs: leave them behind
            # at once (their writes are refused since the release; the store needs no close).
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(0)

"""`--wait`: follow an execution with `Engine.wait`, showing its progress on stderr."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from stackflow.cli.common import UsageError, note
from stackflow.durations import parse_duration, show_duration
from stackflow.engine.engine import Engine
from stackflow.engine.waiting import WaitProgress
from stackflow.records import Execution, JobStatus

if TYPE_CHECKING:
    from rich.status import Status

DEFAULT_INTERVAL = "3s"
DEFAULT_TIMEOUT = "10m"
CLI_UNITS = ("ms", "s", "m")
NO_WORKER_NOTE = "No worker is running: running the execution in this process."
RUNNING_JOB_STATUSES = frozenset({JobStatus.RUNNING, JobStatus.SUSPEND})


def duration_option_value(text: str, option: str) -> float:
    """`500ms`, `3s` or `1m` in seconds; a UsageError (exit 2) for anything else."""
    try:
        seconds = parse_duration(text, name=option, units=CLI_UNITS, whole=True)
    except ValueError:
        seconds = 0.0
    if seconds <= 0:
        raise UsageError(
            f"Invalid value for {option}: '{text}'. Use a positive <int>ms, <int>s or <int>m, "
            "e.g. 500ms, 3s or 1m."
        )
    return seconds


def interval_callback(ctx: click.Context, param: click.Parameter, value: str) -> float:
    """Click callback for `-i/--interval`."""
    return duration_option_value(value, "-i/--interval")


def timeout_callback(ctx: click.Context, param: click.Parameter, value: str) -> float:
    """Click callback for `-t/--timeout`."""
    return duration_option_value(value, "-t/--timeout")


class Progress:
    """The progress line on stderr: live on a terminal, one line per change when piped."""

    def __init__(self, *, quiet: bool) -> None:
        self.live = sys.stderr.isatty()
        self.quiet = quiet
        self._status: Status | None = None
        self._last = ""
        self._shown = 0
        self._announced = False

    def __call__(self, progress: WaitProgress) -> None:
        """Show the status, the running stacked jobs and the time waited (piped: on change).

        When piped, the first report is not shown: a quick execution prints no progress.
        """
        if progress.running_here and not self._announced:
            self.stop()
            note(NO_WORKER_NOTE)
            self._announced = True
        state = _state(progress.execution)
        text = f"{state} ({show_duration(progress.elapsed_seconds)})"
        if self.live:
            self._show_live(text)
        elif self._shown and not self.quiet and state != self._last:
            note(f"Waiting: {text}")
        self._shown += 1
        self._last = state

    def _show_live(self, text: str) -> None:
        from rich.console import Console  # rich loads only on a terminal
        from rich.text import Text

        if self._status is None:
            self._status = Console(stderr=True, highlight=False).status(Text(text))
            self._status.start()
        else:
            self._status.update(Text(text))

    def stop(self) -> None:
        """Remove the live line."""
        if self._status is not None:
            self._status.stop()
            self._status = None


def _state(execution: Execution) -> str:
    running = [
        job.stacked_job_name
        for job in execution.job_executions
        if job.status in RUNNING_JOB_STATUSES
    ]
    return f"{execution.status}" + (f" {', '.join(running)}" if running else "")


def follow(
    engine: Engine,
    execution_id: str,
    *,
    interval_seconds: float,
    timeout_seconds: float | None = None,
    quiet: bool = False,
) -> Execution:
    """The execution once SUCCESS, FAILED, CANCELED or WAITING on a wait point, with progress."""
    progress = Progress(quiet=quiet)
    try:
        return engine.wait(
            execution_id,
            timeout_seconds,
            on_progress=progress,
            progress_interval_seconds=interval_seconds,
        )
    finally:
        progress.stop()


interval_option = click.option(
    "-i",
    "--interval",
    "interval_seconds",
    default=DEFAULT_INTERVAL,
    callback=interval_callback,
    metavar="DURATION",
    help="How often --wait reports progress: <int>ms, <int>s or <int>m (default 3s).",
)
timeout_option = click.option(
    "-t",
    "--timeout",
    "timeout_seconds",
    default=DEFAULT_TIMEOUT,
    callback=timeout_callback,
    metavar="DURATION",
    help="Give up (exit 1) after this long: <int>ms, <int>s or <int>m (default 10m).",
)

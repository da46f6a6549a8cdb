"""`--wait`: follow an execution until it stops; run it here when no worker is live."""

from __future__ import annotations

import re
import sys
import threading
import time
from typing import TYPE_CHECKING

import click

from stackflow.cli.common import UsageError, note
from stackflow.engine.engine import Engine
from stackflow.errors import ExecutionNotFound, WaitTimeout
from stackflow.records import Execution

if TYPE_CHECKING:
    from rich.status import Status

DEFAULT_INTERVAL = "3s"
DEFAULT_TIMEOUT = "10m"
DURATION_PATTERN = re.compile(r"^(\d+)(ms|s|m)$")
UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0}
NO_WORKER_NOTE = "No worker is running: running the execution in this process."
RUNNING_JOB_STATUSES = frozenset({"RUNNING", "SUSPEND"})


def parse_duration(text: str, option: str) -> float:
    """`500ms`, `3s` or `1m` in seconds; a UsageError (exit 2) for anything else."""
    match = DURATION_PATTERN.match(text.strip())
    if match is None or int(match.group(1)) == 0:
        raise UsageError(
            f"Invalid value for {option}: '{text}'. Use a positive <int>ms, <int>s or <int>m, "
            "e.g. 500ms, 3s or 1m."
        )
    return int(match.group(1)) * UNIT_SECONDS[match.group(2)]


def interval_callback(ctx: click.Context, param: click.Parameter, value: str) -> float:
    """Click callback for `-i/--interval`."""
    return parse_duration(value, "-i/--interval")


def timeout_callback(ctx: click.Context, param: click.Parameter, value: str) -> float:
    """Click callback for `-t/--timeout`."""
    return parse_duration(value, "-t/--timeout")


def show_duration(seconds: float) -> str:
    """A short human duration: `850ms`, `12s`, `3m05s`."""
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 60:
        return f"{seconds:.0f}s"
    return f"{int(seconds // 60)}m{int(seconds % 60):02d}s"


class Progress:
    """The progress line on stderr: live on a terminal, one line per change when piped."""

    def __init__(self, *, quiet: bool) -> None:
        self.live = sys.stderr.isatty()
        self.quiet = quiet
        self._status: Status | None = None
        self._last = ""

    def show(self, execution: Execution, elapsed_seconds: float, *, first: bool = False) -> None:
        """Show the status, the running stacked jobs and the time waited (piped: on change).

        When piped, the first poll is not shown: a quick execution prints no progress.
        """
        running = [
            job.stacked_job_name
            for job in execution.job_executions
            if job.status in RUNNING_JOB_STATUSES
        ]
        state = f"{execution.status}" + (f" {', '.join(running)}" if running else "")
        text = f"{state} ({show_duration(elapsed_seconds)})"
        if self.live:
            self._show_live(text)
        elif first:
            return
        elif not self.quiet and state != self._last:
            note(f"Waiting: {text}")
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


class _LocalRun:
    """Runs the execution in a daemon thread of this process (the embedded default)."""

    def __init__(self, engine: Engine, execution_id: str) -> None:
        self.error: BaseException | None = None
        self.ran = False
        self._thread = threading.Thread(
            target=self._run, args=(engine, execution_id), name="stackflow-local", daemon=True
        )
        self._thread.start()

    def _run(self, engine: Engine, execution_id: str) -> None:
        try:
            self.ran = engine.run_execution(execution_id)
        except BaseException as error:  # re-raised in the waiting thread
            self.error = error

    def alive(self) -> bool:
        return self._thread.is_alive()

    def join(self, seconds: float) -> None:
        self._thread.join(seconds)
        if self.error is not None:
            raise self.error


class Follower:
    """Polls an execution every `interval_seconds` until it stops (or `timeout_seconds`)."""

    def __init__(
        self,
        engine: Engine,
        *,
        interval_seconds: float,
        timeout_seconds: float | None = None,
        quiet: bool = False,
    ) -> None:
        self.engine = engine
        self.interval_seconds = interval_seconds
        self.timeout_seconds = timeout_seconds
        self.progress = Progress(quiet=quiet)
        self._announced = False

    def follow(self, execution_id: str) -> Execution:
        """The execution once SUCCESS, FAILED, CANCELED or WAITING on a wait point.

        Pending executions, retries and durable sleeps are followed through.
        """
        try:
            return self._follow(execution_id)
        finally:
            self.progress.stop()

    def _follow(self, execution_id: str) -> Execution:
        started = time.monotonic()
        local: _LocalRun | None = None
        polls = 0
        while True:
            execution = self.engine.find_execution(execution_id)
            if execution is None:
                raise ExecutionNotFound(execution_id)
            if execution.is_settled:
                return execution
            elapsed = time.monotonic() - started
            pause = self._pause(execution, elapsed)
            if local is None or not local.alive():
                local = self._run_here_if_no_worker(execution_id)
            self.progress.show(execution, elapsed, first=polls == 0)
            polls += 1
            paused_at = time.monotonic()
            if local is not None:
                local.join(pause)
            if local is None or not local.ran:
                time.sleep(max(0.0, pause - (time.monotonic() - paused_at)))

    def _pause(self, execution: Execution, elapsed: float) -> float:
        if self.timeout_seconds is None:
            return self.interval_seconds
        left = self.timeout_seconds - elapsed
        if left <= 0:
            raise WaitTimeout(
                f"Execution '{execution.id}' is still {execution.status} after "
                f"{show_duration(self.timeout_seconds)}."
            )
        return min(self.interval_seconds, left)

    def _run_here_if_no_worker(self, execution_id: str) -> _LocalRun | None:
        if self.engine.has_live_worker():
            return None
        if not self._announced:
            self.progress.stop()
            note(NO_WORKER_NOTE)
            self._announced = True
        return _LocalRun(self.engine, execution_id)


interval_option = click.option(
    "-i",
    "--interval",
    "interval_seconds",
    default=DEFAULT_INTERVAL,
    callback=interval_callback,
    metavar="DURATION",
    help="Polling interval of --wait: <int>ms, <int>s or <int>m (default 3s).",
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

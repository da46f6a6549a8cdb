"""Waiting for an execution to settle: woken by its status changes, and running it in this
process when no worker is live (the embedded default)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from stackflow.durations import show_duration
from stackflow.engine.wakeups import FALLBACK_POLL_SECONDS
from stackflow.errors import ExecutionNotFound, WaitTimeout
from stackflow.records import Execution, ExecutionStatus
from stackflow.store.rows import job_executions_from_rows

if TYPE_CHECKING:
    from stackflow.engine.engine import Engine

DEFAULT_PROGRESS_SECONDS = 3.0


@dataclass(frozen=True)
class WaitProgress:
    """What a waiter is told while it waits: the execution now, and how it is being run."""

    execution: Execution
    elapsed_seconds: float
    running_here: bool
    """True once no worker was live and the execution runs in this process."""


ProgressCallback = Callable[[WaitProgress], None]


class LocalRun:
    """Runs the execution on a thread of this process, so the waiter can report and give up."""

    def __init__(self, engine: Engine, execution_id: str) -> None:
        self.error: BaseException | None = None
        self._engine = engine
        self._thread = threading.Thread(
            target=self._run, args=(execution_id,), name="stackflow-local", daemon=True
        )
        self._thread.start()

    def _run(self, execution_id: str) -> None:
        try:
            self._engine.run_execution(execution_id)
        except BaseException as error:  # raised again in the waiting thread
            self.error = error

    def alive(self) -> bool:
        """Whether the run is still going."""
        return self._thread.is_alive()

    def raise_error(self) -> None:
        """Raise in the waiter what the run raised, if anything."""
        if self.error is not None:
            raise self.error


class Waiter:
    """One `Engine.wait`: returns the execution once SUCCESS, FAILED, CANCELED or WAITING on a
    wait point (or in one of the `until` statuses); pending executions, retries and durable
    sleeps are waited through."""

    def __init__(
        self,
        engine: Engine,
        execution_id: str,
        *,
        timeout_seconds: float | None,
        run_here: bool | None,
        on_progress: ProgressCallback | None,
        progress_interval_seconds: float,
        until: Collection[ExecutionStatus] = (),
    ) -> None:
        self.engine = engine
        self.until = frozenset(until)
        self.execution_id = execution_id
        self.timeout_seconds = timeout_seconds
        self.run_here = run_here
        self.on_progress = on_progress
        self.progress_interval_seconds = progress_interval_seconds
        self._started = time.monotonic()
        self._local: LocalRun | None = None
        self._ran_here = False

    def wait(self) -> Execution:
        """Wait; on a timeout, an interrupt or an early return (`until` a status that is not
        final) give back what this process claimed, so that any worker continues at once."""
        execution = self._look()
        if self._done(execution):
            return self._with_jobs(execution)  # no need to listen for changes
        with self.engine.wakeups.watch(self.execution_id) as changed:
            try:
                execution = self._wait(changed)
            except BaseException:
                self._give_back()
                raise
        if not execution.is_settled:
            self._give_back()
        return execution

    def _give_back(self) -> None:
        if self._local is not None and self._local.alive():
            self.engine.release_claims(self.execution_id)

    def _wait(self, changed: threading.Event) -> Execution:
        while True:
            changed.clear()
            execution = self._look()
            if self._done(execution):
                return self._with_jobs(execution)
            if self._run_here_now():
                continue
            self._report(execution)
            changed.wait(self._pause(execution))

    def _look(self) -> Execution:
        """The execution now; its job executions only when progress is reported (they are
        read once more when it is done)."""
        reporting = self.on_progress is not None
        execution = self.engine.store.find_execution(self.execution_id, with_jobs=reporting)
        if execution is None:
            raise ExecutionNotFound(self.execution_id)
        return execution

    def _done(self, execution: Execution) -> bool:
        return execution.status in self.until or execution.is_settled

    def _with_jobs(self, execution: Execution) -> Execution:
        """The settled execution with its job executions, read after it (as `find_execution`
        reads them), without reading the execution's row a second time."""
        if self.on_progress is not None:
            return execution
        jobs = job_executions_from_rows(self.engine.store.load_job_rows(self.execution_id))
        return replace(execution, job_executions=tuple(jobs))

    def _run_here_now(self) -> bool:
        """Run the execution here when no worker is live; True when it ran to a stop here."""
        if self._local is not None:
            if self._local.alive():
                return False
            self._local.raise_error()
        here = self.run_here if self.run_here is not None else not self.engine.has_live_worker()
        if not here:
            return False
        self._ran_here = True
        if self.on_progress is None and self.timeout_seconds is None and not self.until:
            return self.engine.run_execution(self.execution_id)
        self._local = LocalRun(self.engine, self.execution_id)
        return False

    def _report(self, execution: Execution) -> None:
        if self.on_progress is not None:
            elapsed = time.monotonic() - self._started
            self.on_progress(WaitProgress(execution, elapsed, running_here=self._ran_here))

    def _pause(self, execution: Execution) -> float:
        pause = FALLBACK_POLL_SECONDS
        if self.on_progress is not None:
            pause = min(pause, self.progress_interval_seconds)
        if execution.wake_at is not None:
            due = execution.wake_at.timestamp() - time.time()
            pause = min(pause, max(due, 0.001))
        if self.timeout_seconds is not None:
            left = self.timeout_seconds - (time.monotonic() - self._started)
            if left <= 0:
                raise WaitTimeout(
                    f"Execution '{self.execution_id}' is still {execution.status} after "
                    f"{show_duration(self.timeout_seconds)}."
                )
            pause = min(pause, left)
        return pause

"""The worker: claims runnable executions as soon as they appear, runs them on a thread pool,
drains on stop."""

from __future__ import annotations

import concurrent.futures
import contextlib
import logging
import threading
import time
from datetime import datetime
from typing import Any

from stackflow.engine.engine import Engine, process_name
from stackflow.engine.retention import BackgroundPrune
from stackflow.engine.wakeups import FALLBACK_POLL_SECONDS
from stackflow.errors import StackflowError
from stackflow.jsonvalue import format_datetime
from stackflow.records import ExecutionStatus
from stackflow.store import open_store
from stackflow.store.base import Lease, StatusChange
from stackflow.telemetry.logformat import WORKER_LOGGER

DEFAULT_CONCURRENCY = 20
"""As many as one workflow may run at once by default (`max_concurrent_per_workflow`).

Measured in docs/benchmarks.md: on PostgreSQL more executions in flight share each
commit (group commit); on SQLite the one writer is never idle.
"""
WORK_STATUSES = frozenset({ExecutionStatus.PENDING, ExecutionStatus.PENDING_RESUME})
"""A change to one of these is new work to claim."""
DUE_STATUSES = frozenset({ExecutionStatus.PENDING_RETRY, ExecutionStatus.WAITING})
"""A change to one of these may move the next time something falls due."""

Outcome = concurrent.futures.Future[ExecutionStatus | None]


class Worker:
    """Runs the executions of an engine's workflows until asked to stop.

    It is woken by the store's notifications (a start, resume, resolve or release
    anywhere), by its own executions ending, and when a sleep, retry or schedule tick
    falls due; `poll_interval_seconds` is only the fallback when a notification is lost.
    A first `request_stop()` stops claiming and lets the running executions finish; a
    second one releases them (they become PENDING_RESUME, and any worker resumes them
    from their checkpoints) and returns at once.
    """

    def __init__(
        self,
        engine: Engine,
        concurrency: int = DEFAULT_CONCURRENCY,
        *,
        poll_interval_seconds: float = FALLBACK_POLL_SECONDS,
        logger: logging.Logger | None = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.engine = engine
        self.concurrency = concurrency
        self.poll_interval_seconds = poll_interval_seconds
        self.logger = logger or logging.getLogger(WORKER_LOGGER)
        self.worker_id = f"worker:{process_name()}:{engine.owner[:8]}"
        self.abandoned = False
        self._stops = 0
        self._wake = threading.Event()
        self._held: dict[Outcome, Lease] = {}
        self._next_due_ms: int | None = None
        self._due_stale = True

    # stopping
    @property
    def stopping(self) -> bool:
        """Whether a stop was requested (no more claims)."""
        return self._stops > 0

    def request_stop(self) -> None:
        """Stop claiming (first call), then release what is held (second call)."""
        self._stops += 1
        self._wake.set()

    def log(self, level: int, message: str, lease: Lease | None = None, **fields: Any) -> None:
        """Log `message` with the worker id (and the execution of `lease`) as attributes."""
        fields["workerId"] = self.worker_id
        if lease is not None:
            fields.update(executionId=lease.execution_id, workflowName=lease.workflow_name)
        self.logger.log(level, message, extra=fields)

    # the loop
    def run(self) -> None:
        """Register as live, claim and run executions until stopped, then unregister."""
        self.engine.register_worker(self.worker_id)
        self.log(logging.INFO, f"worker {self.worker_id} started (concurrency {self.concurrency})")
        pool = concurrent.futures.ThreadPoolExecutor(
            self.concurrency, thread_name_prefix="stackflow-worker"
        )
        retention = self._start_retention()
        try:
            with self.engine.wakeups.subscribe(self._on_changes):
                self._loop(pool)
        finally:
            if retention is not None:
                retention.stop()
            pool.shutdown(wait=not self.abandoned, cancel_futures=True)
            self.engine.unregister_worker()
        self.log(logging.INFO, f"worker {self.worker_id} stopped")

    def _start_retention(self) -> BackgroundPrune | None:
        """With `[retention]`: prune old executions on a thread of their own."""
        if self.engine.retention.older_than_seconds is None:
            return None
        engine = self.engine
        retention = BackgroundPrune(
            lambda: open_store(engine.database_url, sqlite_synchronous=engine.sqlite_synchronous),
            engine.retention,
            lambda line: self.log(logging.INFO, line),
        )
        retention.start()
        return retention

    def _on_changes(self, changes: list[StatusChange] | None) -> None:
        """On the listening thread: wake the loop for new work or a new due time."""
        if changes is None:
            self._due_stale = True
            self._wake.set()
            return
        ours = [change for change in changes if change.workflow_name in self.engine.workflows]
        if any(change.status in DUE_STATUSES for change in ours):
            self._due_stale = True
            self._wake.set()
        elif any(change.status in WORK_STATUSES for change in ours):
            self._wake.set()

    def _loop(self, pool: concurrent.futures.ThreadPoolExecutor) -> None:
        announced = False
        while True:
            self._wake.clear()
            self._collect()
            if self._stops >= 2 and self._held:
                self._release_all()
                return
            if self.stopping:
                if not announced:
                    self.log(
                        logging.INFO,
                        "Stopping: finishing the running executions (signal again to "
                        f"release them): {len(self._held)} running.",
                    )
                    announced = True
                if not self._held:
                    return
            else:
                self._claim_logging_errors(pool)
            self._wake.wait(self._pause())

    def _claim_logging_errors(self, pool: concurrent.futures.ThreadPoolExecutor) -> None:
        """Claim; a failed claim (a busy or unreachable store) is logged and retried."""
        try:
            self._fire_schedules()
            self._claim(pool)
            if self._due_stale:
                self._due_stale = False
                self._next_due_ms = self.engine.next_wake_ms()
        except StackflowError as error:
            self.log(logging.WARNING, f"claiming failed, retrying: {error}", error=str(error))

    def _fire_schedules(self) -> None:
        for execution_id in self.engine.fire_due_schedules(on_error=self._log_tick_error):
            message = f"{execution_id} started by a schedule"
            self.log(logging.INFO, message, executionId=execution_id)

    def _log_tick_error(self, name: str, tick: datetime, message: str) -> None:
        text = f"schedule {name} tick {format_datetime(tick)} skipped: {message}"
        self.log(logging.WARNING, text, error=message)

    def _claim(self, pool: concurrent.futures.ThreadPoolExecutor) -> None:
        free = self.concurrency - len(self._held)
        if free <= 0:
            return
        for lease in self.engine.claim_runnable(free):
            head = f"{lease.execution_id} {lease.workflow_name}"
            self.log(logging.INFO, f"{head} RUNNING", lease, status=ExecutionStatus.RUNNING)
            outcome = pool.submit(self.engine.run_claimed, lease)
            self._held[outcome] = lease
            outcome.add_done_callback(lambda _: self._wake.set())

    def _pause(self) -> float:
        """How long to sleep when nothing wakes us: until something falls due, at most
        the fallback poll."""
        pause = self.poll_interval_seconds
        if self._next_due_ms is not None:
            due_in = self._next_due_ms / 1000 - time.time()
            if due_in > 0:
                pause = min(pause, due_in)
            else:  # due and still not claimed (a cap, another worker): read it again later
                self._due_stale = True
        tick = self.engine.next_schedule_tick()
        if tick is not None:
            pause = min(pause, max(tick.timestamp() - time.time(), 0.0))
        return pause

    def _collect(self) -> None:
        """Log the executions that ended."""
        for outcome in [outcome for outcome in self._held if outcome.done()]:
            self._log_end(self._held.pop(outcome), outcome)

    def _log_end(self, lease: Lease, outcome: Outcome) -> None:
        head = f"{lease.execution_id} {lease.workflow_name}"
        error = outcome.exception()
        if error is not None:
            text = f"{type(error).__name__}: {error}"
            self.log(logging.ERROR, f"{head} ERROR {text}", lease, status="ERROR", error=text)
            return
        status = outcome.result()
        if status == ExecutionStatus.FAILED:
            self._log_failed(lease, head)
            return
        shown = status if status is not None else "LEASE LOST"
        self.log(logging.INFO, f"{head} {shown}", lease, status=str(shown))

    def _log_failed(self, lease: Lease, head: str) -> None:
        """The FAILED line names the job execution that failed it, and its error."""
        found = None
        with contextlib.suppress(StackflowError):  # the line is written without the job then
            found = self.engine.find_execution(lease.execution_id, with_jobs=False)
        error = found.error if found is not None and found.error else {}
        self.log(
            logging.WARNING,
            f"{head} FAILED",
            lease,
            status=ExecutionStatus.FAILED,
            stackedJobName=error.get("stackedJobName"),
            error=f"{error.get('type', 'Error')}: {error.get('message', '')}" if error else None,
        )

    def _release_all(self) -> None:
        for outcome, lease in list(self._held.items()):
            if outcome.done():
                self._log_end(lease, outcome)
                continue
            self.engine.release(lease)
            head = f"{lease.execution_id} {lease.workflow_name}"
            self.log(logging.INFO, f"{head} RELEASED", lease, status="RELEASED")
        self._held.clear()
        self.abandoned = True

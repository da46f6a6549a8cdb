"""The worker: claims runnable executions as soon as they appear, runs them on a thread pool,
drains on stop."""

from __future__ import annotations

import concurrent.futures
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from stackflow.engine.engine import Engine
from stackflow.engine.wakeups import FALLBACK_POLL_SECONDS
from stackflow.errors import StackflowError
from stackflow.jsonvalue import format_datetime
from stackflow.records import ExecutionStatus
from stackflow.store.base import Lease, StatusChange

DEFAULT_CONCURRENCY = 20
"""As many as one workflow may run at once by default (`max_concurrent_per_workflow`).

Measured in docs/benchmarks.md: on PostgreSQL more executions in flight share each
commit (group commit); on SQLite the one writer is never idle.
"""
WORK_STATUSES = frozenset({ExecutionStatus.PENDING, ExecutionStatus.PENDING_RESUME})
"""A change to one of these is new work to claim."""
DUE_STATUSES = frozenset({ExecutionStatus.PENDING_RETRY, ExecutionStatus.WAITING})
"""A change to one of these may move the next time something falls due."""

LogLine = Callable[[str], None]
Outcome = concurrent.futures.Future[ExecutionStatus | None]


def _stamp() -> str:
    return format_datetime(datetime.now(UTC))


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
        log: LogLine = print,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.engine = engine
        self.concurrency = concurrency
        self.poll_interval_seconds = poll_interval_seconds
        self.log = log
        self.worker_id = f"worker:{engine.owner}"
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

    # the loop
    def run(self) -> None:
        """Register as live, claim and run executions until stopped, then unregister."""
        self.engine.register_worker(self.worker_id)
        self.log(f"{_stamp()} worker {self.worker_id} started (concurrency {self.concurrency})")
        pool = concurrent.futures.ThreadPoolExecutor(
            self.concurrency, thread_name_prefix="stackflow-worker"
        )
        try:
            with self.engine.wakeups.subscribe(self._on_changes):
                self._loop(pool)
        finally:
            pool.shutdown(wait=not self.abandoned, cancel_futures=True)
            self.engine.unregister_worker()
        self.log(f"{_stamp()} worker {self.worker_id} stopped")

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
                if not self._held:
                    return
                if not announced:
                    self.log(
                        f"{_stamp()} Stopping: finishing {len(self._held)} running "
                        "execution(s) (signal again to release them)."
                    )
                    announced = True
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
            self.log(f"{_stamp()} claiming failed, retrying: {error}")

    def _fire_schedules(self) -> None:
        for execution_id in self.engine.fire_due_schedules(on_error=self._log_tick_error):
            self.log(f"{_stamp()} {execution_id} started by a schedule")

    def _log_tick_error(self, name: str, tick: datetime, message: str) -> None:
        self.log(f"{_stamp()} schedule {name} tick {format_datetime(tick)} skipped: {message}")

    def _claim(self, pool: concurrent.futures.ThreadPoolExecutor) -> None:
        free = self.concurrency - len(self._held)
        if free <= 0:
            return
        for lease in self.engine.claim_runnable(free):
            self.log(f"{_stamp()} {lease.execution_id} {lease.workflow_name} RUNNING")
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
        head = f"{_stamp()} {lease.execution_id} {lease.workflow_name}"
        error = outcome.exception()
        if error is not None:
            self.log(f"{head} ERROR {type(error).__name__}: {error}")
            return
        status = outcome.result()
        self.log(f"{head} {status if status is not None else 'LEASE LOST'}")

    def _release_all(self) -> None:
        for outcome, lease in list(self._held.items()):
            if outcome.done():
                self._log_end(lease, outcome)
                continue
            self.engine.release(lease)
            self.log(f"{_stamp()} {lease.execution_id} {lease.workflow_name} RELEASED")
        self._held.clear()
        self.abandoned = True

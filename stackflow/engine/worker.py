"""The worker: claims runnable executions, runs them in a thread pool, drains on stop."""

from __future__ import annotations

import concurrent.futures
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from stackflow.clock import now_ms
from stackflow.engine.engine import HEARTBEAT_INTERVAL_SECONDS, Engine
from stackflow.errors import StackflowError
from stackflow.jsonvalue import format_datetime
from stackflow.store.base import Lease

DEFAULT_CONCURRENCY = 4
POLL_INTERVAL_SECONDS = 0.25

LogLine = Callable[[str], None]


def _stamp() -> str:
    return format_datetime(datetime.now(UTC))


class Worker:
    """Runs the executions of an engine's workflows until asked to stop.

    A first `request_stop()` stops claiming and lets the running executions
    finish; a second one releases them (they become PENDING_RESUME, and any
    worker resumes them from their checkpoints) and returns at once.
    """

    def __init__(
        self,
        engine: Engine,
        concurrency: int = DEFAULT_CONCURRENCY,
        *,
        poll_interval_seconds: float = POLL_INTERVAL_SECONDS,
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
        self._held: dict[concurrent.futures.Future[str | None], Lease] = {}
        self._last_beat = 0.0

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
        self.engine.worker_id = self.worker_id
        self.engine.store.register_worker(self.worker_id, self.engine.owner, now_ms())
        self._last_beat = time.monotonic()
        self.log(f"{_stamp()} worker {self.worker_id} started (concurrency {self.concurrency})")
        pool = concurrent.futures.ThreadPoolExecutor(
            self.concurrency, thread_name_prefix="stackflow-worker"
        )
        try:
            self._loop(pool)
        finally:
            pool.shutdown(wait=not self.abandoned, cancel_futures=True)
            self.engine.store.remove_worker(self.worker_id)
            self.engine.worker_id = None
        self.log(f"{_stamp()} worker {self.worker_id} stopped")

    def _loop(self, pool: concurrent.futures.ThreadPoolExecutor) -> None:
        announced = False
        while True:
            self._beat_if_due()
            if self._stops >= 2 and self._held:
                self._release_all()
                return
            if self.stopping:
                if not self._held:
                    return
                if not announced:
                    self.log(f"{_stamp()} stopping: finishing {len(self._held)} execution(s)")
                    announced = True
            else:
                self._claim_logging_errors(pool)
            self._collect(self.poll_interval_seconds)

    def _claim_logging_errors(self, pool: concurrent.futures.ThreadPoolExecutor) -> None:
        """Claim; a failed claim (a busy or unreachable store) is logged and retried."""
        try:
            self._claim(pool)
        except StackflowError as error:
            self.log(f"{_stamp()} claiming failed, retrying: {error}")

    def _beat_if_due(self) -> None:
        if time.monotonic() - self._last_beat >= HEARTBEAT_INTERVAL_SECONDS:
            self.engine.heartbeat()
            self._last_beat = time.monotonic()

    def _claim(self, pool: concurrent.futures.ThreadPoolExecutor) -> None:
        for execution_id in self.engine.fire_due_schedules():
            self.log(f"{_stamp()} {execution_id} started by a schedule")
        free = self.concurrency - len(self._held)
        if free <= 0:
            return
        for lease in self.engine.claim_runnable(free):
            self.log(f"{_stamp()} {lease.execution_id} {lease.workflow_name} RUNNING")
            self._held[pool.submit(self.engine.run_claimed, lease)] = lease

    def _collect(self, timeout_seconds: float) -> None:
        """Wait up to `timeout_seconds` for an execution to end (or a stop); log the ends."""
        if self._held:
            done, _ = concurrent.futures.wait(
                list(self._held),
                timeout=timeout_seconds,
                return_when=concurrent.futures.FIRST_COMPLETED,
            )
        else:
            if not self._wake.is_set():  # idle: a NOTIFY (PostgreSQL) or the poll interval
                self.engine.store.wait_for_work(timeout_seconds)
            done = set()
        self._wake.clear()
        for future in done:
            self._log_end(self._held.pop(future), future)

    def _log_end(self, lease: Lease, future: concurrent.futures.Future[str | None]) -> None:
        head = f"{_stamp()} {lease.execution_id} {lease.workflow_name}"
        error = future.exception()
        if error is not None:
            self.log(f"{head} ERROR {type(error).__name__}: {error}")
            return
        status = future.result()
        self.log(f"{head} {status if status is not None else 'LEASE LOST'}")

    def _release_all(self) -> None:
        for future, lease in list(self._held.items()):
            if future.done():
                self._log_end(lease, future)
                continue
            self.engine.store.release_execution(lease, now_ms())
            self.log(f"{_stamp()} {lease.execution_id} {lease.workflow_name} RELEASED")
        self._held.clear()
        self.abandoned = True

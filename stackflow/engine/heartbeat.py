"""The one heartbeat of an engine: it renews the leases of what the process holds, notices
cancel requests, shows long-running jobs, and keeps a worker registered as live."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from stackflow.clock import now_ms
from stackflow.errors import LeaseLost
from stackflow.store.base import Lease, Store

if TYPE_CHECKING:
    from stackflow.engine.execution_run import ExecutionRun

HEARTBEAT_INTERVAL_SECONDS = 1.0
"""Between beats, at most: how soon a cancel request or a long-running job is seen."""
WORKER_BEAT_SECONDS = 2.0
"""Between two announcements of a live worker (an idle worker writes nothing else)."""
RENEWALS_PER_LEASE = 3
"""A lease is renewed when a third of it has passed: it outlives two missed renewals."""

ClaimKey = tuple[str, int]
"""(execution id, fence): one claim of one execution."""


def claim_key(lease: Lease) -> ClaimKey:
    """The key of a claim: a later claim of the same execution has another fence."""
    return (lease.execution_id, lease.fence)


class Heartbeat:
    """Beats on a thread of its own while there is anything to beat for: claimed executions
    (held or running) or a registered worker."""

    def __init__(self, store: Callable[[], Store], owner: str, lease_ms: int, info: str) -> None:
        self._store = store
        self.owner = owner
        self.info = info
        """What the workers table says of this process (`host:pid owner`)."""
        self.lease_ms = lease_ms
        self.renew_seconds = lease_ms / 1000 / RENEWALS_PER_LEASE
        self.interval_seconds = min(HEARTBEAT_INTERVAL_SECONDS, self.renew_seconds)
        self.worker_id: str | None = None
        self._renewed_at = 0.0
        self._announced_at = 0.0
        self._held: dict[ClaimKey, Lease] = {}
        self._runs: dict[ClaimKey, ExecutionRun] = {}
        self._deadlines: dict[ClaimKey, float] = {}
        """When each claim's lease may have run out, by this process's monotonic clock."""
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stopped = threading.Event()

    # what the process holds
    def hold(self, lease: Lease, claimed_at: float) -> None:
        """Keep a claimed execution's lease alive until its run starts.

        `claimed_at`: `time.monotonic()` taken before the claim was asked for (the lease
        cannot have started earlier, so it cannot last longer than lease_ms from then).
        """
        key = claim_key(lease)
        with self._lock:
            self._held[key] = lease
            self._deadlines[key] = claimed_at + self.lease_ms / 1000
        self._ensure_running()

    def holds(self, lease: Lease) -> bool:
        """Whether this process surely still holds the claim: its lease was renewed in time.

        False once a renewal found it taken over, or when the lease may have run out
        unrenewed (the process was paused, or the store unreachable, past it).
        """
        deadline = self._deadlines.get(claim_key(lease))
        return deadline is None or time.monotonic() < deadline

    def track(self, run: ExecutionRun) -> None:
        """Keep a running execution's lease alive (and tell it of cancel requests)."""
        key = claim_key(run.lease)
        with self._lock:
            self._held.pop(key, None)
            self._runs[key] = run
        self._ensure_running()

    def forget(self, lease: Lease) -> None:
        """Stop beating for this claim (it ended, or was released)."""
        key = claim_key(lease)
        with self._lock:
            self._held.pop(key, None)
            self._runs.pop(key, None)
            self._deadlines.pop(key, None)

    def held_leases(self, execution_id: str | None = None) -> list[Lease]:
        """The claims this process holds (of one execution, when given)."""
        with self._lock:
            leases = [*self._held.values(), *(run.lease for run in self._runs.values())]
        return [lease for lease in leases if execution_id in (None, lease.execution_id)]

    def run_of(self, lease: Lease) -> ExecutionRun | None:
        """The run of this claim, if it has started."""
        with self._lock:
            return self._runs.get(claim_key(lease))

    def register_worker(self, worker_id: str) -> None:
        """Announce a live worker now, and at every beat until `unregister_worker`."""
        self.worker_id = worker_id
        self._store().register_worker(worker_id, self.info, now_ms())
        self._announced_at = time.monotonic()
        self._ensure_running()

    def unregister_worker(self) -> None:
        """Forget the worker (it stopped)."""
        worker_id, self.worker_id = self.worker_id, None
        if worker_id is not None:
            self._store().remove_worker(worker_id)

    # beating
    def _ensure_running(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._beat_until_stopped, name="stackflow-heartbeat", daemon=True
                )
                self._thread.start()

    def _beat_until_stopped(self) -> None:
        while not self._stopped.wait(self.interval_seconds):
            try:
                self.beat()
            except Exception:  # a failed beat (store busy or unreachable) is retried next time
                continue

    def beat(self) -> None:
        """One beat: pass on cancel requests, show long jobs, renew leases when a third of
        them has passed, announce the worker every WORKER_BEAT_SECONDS."""
        store = self._store()
        with self._lock:
            runs = list(self._runs.values())
            held = list(self._held.values())
        claims = [claim_key(lease) for lease in [*held, *(run.lease for run in runs)]]
        execution_ids = sorted({execution_id for execution_id, _ in claims})
        if execution_ids and self._due(self._renewed_at, self.renew_seconds):
            asked = time.monotonic()
            renewed = store.renew_leases(self.owner, execution_ids, self.lease_ms, now_ms())
            self._note_renewals(claims, renewed, asked)
            self._renewed_at = asked
        if runs:
            canceled = store.cancel_requested([run.lease.execution_id for run in runs])
            for run in runs:
                run.canceled = run.canceled or run.lease.execution_id in canceled
                try:
                    run.flush_inflight()
                except LeaseLost:  # taken over: the run itself stops at its next write
                    continue
        if self.worker_id is not None and self._due(self._announced_at, WORKER_BEAT_SECONDS):
            store.register_worker(self.worker_id, self.info, now_ms())
            self._announced_at = time.monotonic()
        if execution_ids:
            store.maintain()

    def _note_renewals(self, claims: list[ClaimKey], renewed: set[ClaimKey], asked: float) -> None:
        """Extend the deadlines of the claims renewed; end those that were not (taken over)."""
        with self._lock:
            for key in claims:
                if key in self._deadlines:
                    self._deadlines[key] = asked + self.lease_ms / 1000 if key in renewed else 0.0

    @staticmethod
    def _due(last: float, every_seconds: float) -> bool:
        return time.monotonic() - last >= every_seconds * 0.95

    def stop(self) -> None:
        """Stop beating (the engine is closing)."""
        self._stopped.set()

"""Claiming executions and running them in this process: what a worker drives."""

from __future__ import annotations

import concurrent.futures
import functools
import threading
import time
from typing import TYPE_CHECKING

from stackflow.clock import now_ms
from stackflow.engine.execution_run import ExecutionRun, RunSettings
from stackflow.errors import LeaseLost, UnknownWorkflow
from stackflow.logs import install_capture
from stackflow.records import ExecutionStatus
from stackflow.store.base import ClaimLimits, Lease, Store

if TYPE_CHECKING:
    from stackflow.engine.engine import Engine

CLAIM_BATCH = 16
"""How many executions `run_pending` claims at once when it runs them one at a time."""


class Runner:
    """An engine's claims and runs: the claim lock, the job threads, the run loops."""

    def __init__(self, engine: Engine, max_parallel_children: int) -> None:
        self._engine = engine
        self._pool = concurrent.futures.ThreadPoolExecutor(
            max_parallel_children, thread_name_prefix="stackflow-job"
        )
        self._claiming = threading.Lock()
        """Held from a claim to its lease being held by the heartbeat."""

    def close(self) -> None:
        """Stop the job threads (a job still running is abandoned)."""
        self._pool.shutdown(wait=False, cancel_futures=True)

    def claim_limits(self) -> ClaimLimits:
        """The caps on running executions: project-wide and per workflow."""
        per_workflow = {}
        for name, workflow in self._engine.workflows.items():
            policy = workflow.concurrency_policy
            cap = (
                policy.max_concurrent_executions
                if policy
                else self._engine.max_concurrent_per_workflow
            )
            if cap is not None:
                per_workflow[name] = cap
        return ClaimLimits(self._engine.max_concurrent_executions, per_workflow)

    def run_execution(self, execution_id: str) -> bool:
        """Claim this execution if it is runnable and run it here; False if it was not."""
        with self._claiming:
            asked = time.monotonic()
            lease = self._engine.store.claim_execution(
                execution_id,
                self._engine.owner,
                self._engine.lease_ms,
                now_ms(),
                self.claim_limits(),
            )
            if lease is None:
                return False
            self._engine.heartbeat.hold(lease, asked)
        self.run_claimed(lease)
        return True

    def claim_runnable(self, limit: int) -> list[Lease]:
        """Claim up to `limit` runnable executions of this engine's workflows (kept alive by
        the heartbeat until `run_claimed` or `release`)."""
        with self._claiming:
            asked = time.monotonic()
            leases = self._engine.store.claim_runnable(
                self._engine.owner,
                self._engine.lease_ms,
                now_ms(),
                limit,
                sorted(self._engine.workflows),
                self.claim_limits(),
            )
            for lease in leases:
                self._engine.heartbeat.hold(lease, asked)
        return leases

    def run_claimed(self, lease: Lease) -> ExecutionStatus | None:
        """Run a claimed execution to its end; its final status (None if the lease was lost)."""
        workflow = self._engine.workflows.get(lease.workflow_name)
        if workflow is None:
            self.release(lease)
            raise UnknownWorkflow(
                f"execution {lease.execution_id} is of workflow '{lease.workflow_name}', "
                "which this project does not define"
            )
        install_capture()
        run = ExecutionRun(self.run_settings(), lease, workflow)
        run.holds = functools.partial(self._engine.heartbeat.holds, lease)
        self._engine.heartbeat.track(run)
        try:
            return run.run()
        except LeaseLost:
            return None
        finally:
            self._engine.heartbeat.forget(lease)

    def run_settings(self, store: Store | None = None) -> RunSettings:
        return RunSettings(
            store or self._engine.store,
            self._engine.env,
            self._engine.payload_limit_bytes,
            self._pool,
            project=self._engine.project,
            metrics=self._engine.metrics,
        )

    def release(self, lease: Lease) -> None:
        """Give a claimed execution back unfinished (PENDING_RESUME: any worker resumes it)."""
        run = self._engine.heartbeat.run_of(lease)
        if run is not None:
            run.released = True  # its thread stops at the next job boundary
        self._engine.heartbeat.forget(lease)
        self._engine.store.release_execution(lease, now_ms())

    def release_claims(self, execution_id: str) -> None:
        """Release whatever this process holds of an execution (a wait that gave up)."""
        with self._claiming:  # a claim in flight is held before this looks
            leases = self._engine.heartbeat.held_leases(execution_id)
        for lease in leases:
            self.release(lease)

    def run_pending(self, concurrency: int | None = None) -> int:
        """Run every runnable execution in this process until none is left; how many ran.

        With `concurrency` above 1, that many executions run at once on threads.
        """
        width = max(1, concurrency or 1)
        if width == 1:
            return self._run_pending_here()
        return self._run_pending_on_threads(width)

    def _run_pending_here(self) -> int:
        """One at a time in this thread, claiming a batch at once (the heartbeat renews it)."""
        ran = 0
        while leases := self.claim_runnable(CLAIM_BATCH):
            for lease in leases:
                self.run_claimed(lease)
                ran += 1
        return ran

    def _run_pending_on_threads(self, width: int) -> int:
        ran = 0
        running: set[concurrent.futures.Future[ExecutionStatus | None]] = set()
        with concurrent.futures.ThreadPoolExecutor(width) as pool:
            while True:
                free = width - len(running)
                leases = self.claim_runnable(free) if free else []
                running.update(pool.submit(self.run_claimed, lease) for lease in leases)
                ran += len(leases)
                if not running:
                    return ran
                done, running = concurrent.futures.wait(
                    running, return_when=concurrent.futures.FIRST_COMPLETED
                )
                for future in done:
                    future.result()

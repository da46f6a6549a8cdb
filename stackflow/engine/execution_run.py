"""One claimed execution from claim to release: the main job, parking, retries, cancels."""

from __future__ import annotations

import concurrent.futures
import itertools
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from stackflow.clock import now_ms
from stackflow.definitions.deps import JobsProxy
from stackflow.definitions.jobs import WorkflowJob
from stackflow.definitions.workflows import Workflow
from stackflow.engine.job_run import JobRun
from stackflow.engine.replay import History
from stackflow.errors import PayloadTooLarge
from stackflow.jsonvalue import encode, valid_text
from stackflow.records import ErrorInfo, ExecutionStatus, Invoker, JobStatus
from stackflow.signals import Canceled, Suspend
from stackflow.store.base import WORKER_LOST_ERROR, Lease, Store
from stackflow.telemetry.observer import RunMetrics, observe_run

if TYPE_CHECKING:
    from stackflow.project.project import Project


@dataclass(frozen=True)
class RunSettings:
    """What an execution run needs from its engine."""

    store: Store
    env: Mapping[str, Any]
    payload_limit_bytes: int
    pool: concurrent.futures.ThreadPoolExecutor
    project: Project | None = None
    metrics: RunMetrics | None = None


class ExecutionRun:
    """One claimed execution being run by this process."""

    def __init__(self, settings: RunSettings, lease: Lease, workflow: Workflow) -> None:
        self.settings = settings
        self.store = settings.store
        self.lease = lease
        self.workflow = workflow
        self.retries_done = lease.retries
        self.invoker: Invoker | None = (
            json.loads(lease.invoker_json) if lease.invoker_json else None
        )
        self.history = self._load_history()
        self._seqs = itertools.count(self.history.next_seq)
        self.inflight: dict[int, Any] = {}
        self.canceled = False
        self.released = False
        """Set when this process gave the execution back: nothing more starts here."""
        self.holds: Callable[[], bool] = lambda: True
        """Whether this process surely still holds the claim (the engine's heartbeat knows)."""
        self.sleep_wakes: list[int] = []
        self._proxies: dict[int, JobsProxy] = {}
        self.observer = observe_run(lease, settings.metrics)
        """Spans and metrics of this run (None when nothing observes it)."""
        self._main_error: str | None = None

    def _load_history(self) -> History:
        if self.lease.first_run:
            return History([], [])
        execution_id = self.lease.execution_id
        return History(self.store.load_job_rows(execution_id), self.store.load_waits(execution_id))

    def next_seq(self) -> int:
        """The key of the next job execution of this execution."""
        return next(self._seqs)

    def jobs_proxy(self, job: WorkflowJob) -> JobsProxy:
        """The `ctx.jobs` of `job` (built once per job per run)."""
        proxy = self._proxies.get(id(job))
        if proxy is None:
            proxy = JobsProxy(job.deps, caller_is_async=job.is_async, owner=job.name)
            self._proxies[id(job)] = proxy
        return proxy

    def encode_payload(self, value: Any, what: str) -> str:
        """Canonical JSON of a job input or result, within the payload limit."""
        text = encode(value, what=what)
        limit = self.settings.payload_limit_bytes
        if len(text) > limit // 4 and len(text.encode("utf-8")) > limit:
            raise PayloadTooLarge(
                f"{what} is {len(text.encode('utf-8'))} bytes, over the payload limit of "
                f"{limit} bytes (engine.payload_limit_bytes)"
            )
        return text

    def run(self) -> ExecutionStatus:
        """Run the main job to its end or its next wait; record the outcome; return the status."""
        observer = self.observer
        if observer is None:
            return self._run()
        trace_context = observer.run_started()
        if trace_context is not None:
            self.store.record_trace_context(self.lease, trace_context)
        try:
            status = self._run()
        except BaseException as error:
            observer.run_ended(None, raised=error)
            raise
        observer.run_ended(status, self._main_error)
        return status

    def _run(self) -> ExecutionStatus:
        if self.history.has_unfinished():
            self._abandon_unfinished()
        self.canceled = self.lease.cancel_requested
        committed = self.history.latest("")
        if committed is not None and committed.status == JobStatus.SUCCESS:
            # a transactional main job committed; its process died before finishing the execution
            main = JobRun(self, self.workflow.main_job, committed, 1, recorded=True)
            return self._finish(main, ExecutionStatus.SUCCESS)
        main = JobRun.for_path(self, self.workflow.main_job, "", self.lease.arg_json, parent=None)
        if main.recorded:
            main.record_result()  # a WAITING main job runs again
        # else its start is recorded with its outcome, or by the heartbeat if it runs long
        try:
            main = main.execute_with_retries_sync()
        except Suspend:
            self.store.park_execution(self.lease, min(self.sleep_wakes, default=None), now_ms())
            return ExecutionStatus.WAITING
        except Canceled:
            return self._finish(main, ExecutionStatus.CANCELED)
        return self._finish(main, ExecutionStatus(main.row.status.value))

    def _finish(self, main: JobRun, status: ExecutionStatus) -> ExecutionStatus:
        main.row.logs = valid_text(main.log.text())
        self._main_error = main.row.error_json
        wake_at_ms = None
        policy = self.workflow.retry_policy
        if status == ExecutionStatus.FAILED and policy and self.retries_done < policy.max_retries:
            status = ExecutionStatus.PENDING_RETRY
            wake_at_ms = now_ms() + int(policy.backoff_seconds(self.retries_done + 1) * 1000)
        main.record_with(
            lambda recorded: self.store.finish_execution(
                self.lease,
                main.row,
                main_job_recorded=recorded,
                status=status,
                now_ms=now_ms(),
                wake_at_ms=wake_at_ms,
            )
        )
        return status

    def _abandon_unfinished(self) -> None:
        error: ErrorInfo = {
            "type": WORKER_LOST_ERROR,
            "message": "the process running this job stopped before the job finished",
        }
        self.store.abandon_unfinished_jobs(self.lease, json.dumps(error), now_ms())
        self.history = self._load_history()
        self._seqs = itertools.count(self.history.next_seq)

    def flush_inflight(self) -> None:
        """Make long-running jobs visible: record the start of every unrecorded one."""
        for job_run in list(self.inflight.values()):
            job_run.record_start_if_needed()

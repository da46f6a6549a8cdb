"""Running a claimed execution: its history, the main job, parking, retries and cancels."""

from __future__ import annotations

import concurrent.futures
import itertools
import json
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from stackflow.definitions import JobsProxy, Workflow, WorkflowJob
from stackflow.errors import PayloadTooLarge
from stackflow.jsonvalue import encode
from stackflow.records import ErrorInfo, Invoker
from stackflow.signals import Canceled, Suspend
from stackflow.store.base import WORKER_LOST_ERROR, JobRow, Lease, Store, WaitRow

if TYPE_CHECKING:
    from stackflow.project import Project

CANCELED_ERROR: ErrorInfo = {"type": "Canceled", "message": "the execution was canceled"}


def now_ms() -> int:
    """The current time in epoch milliseconds."""
    return time.time_ns() // 1_000_000


def new_id() -> str:
    """A fresh, time-ordered id (UUID version 7 layout) for executions and job executions."""
    value = (time.time_ns() // 1_000_000) << 80 | random.getrandbits(80)
    value = (value & ~(0xF << 76)) | (0x7 << 76)
    value = (value & ~(0x3 << 62)) | (0x2 << 62)
    text = f"{value:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


@dataclass(frozen=True)
class RunSettings:
    """What an execution run needs from its engine."""

    store: Store
    env: Mapping[str, Any]
    payload_limit_bytes: int
    pool: concurrent.futures.ThreadPoolExecutor
    project: Project | None = None


def parent_and_position(path: str) -> tuple[str, int]:
    """The parent call path and the position within it of a child's call path."""
    parent, _, last = path.rpartition(".")
    return parent, int(last)


class History:
    """The recorded job executions and waits of one execution, indexed for replay."""

    def __init__(self, rows: list[JobRow], waits: list[WaitRow]) -> None:
        self.attempts: dict[str, list[JobRow]] = {}
        self.children: dict[str, set[int]] = {}
        self.waits = {wait.call_path: wait for wait in waits}
        self.next_seq = max((row.seq for row in rows), default=0) + 1
        for path in [row.call_path for row in rows] + list(self.waits):
            if path:
                parent, position = parent_and_position(path)
                self.children.setdefault(parent, set()).add(position)
        for row in rows:
            self.attempts.setdefault(row.call_path, []).append(row)
        self.rerun = self._rerun_paths()

    def latest(self, path: str) -> JobRow | None:
        """The last attempt recorded at `path`, if any."""
        attempts = self.attempts.get(path)
        return attempts[-1] if attempts else None

    def has_unfinished(self) -> bool:
        """Whether a job was left RUNNING or SUSPEND by a process that died."""
        return any(a[-1].status in ("RUNNING", "SUSPEND") for a in self.attempts.values())

    def _rerun_paths(self) -> set[str]:
        """Failed jobs that run again: abandoned ones and the chain that failed the execution."""
        rerun = {
            path
            for path, attempts in self.attempts.items()
            if attempts[-1].status == "FAILED" and _error_type(attempts[-1]) == WORKER_LOST_ERROR
        }
        path: str | None = ""
        while path is not None and path not in rerun:
            row = self.latest(path)
            if row is None or row.status != "FAILED":
                break
            rerun.add(path)
            path = row.failure_cause
        return rerun


def _error_type(row: JobRow) -> str | None:
    return json.loads(row.error_json).get("type") if row.error_json else None


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
        self.inflight: dict[str, Any] = {}
        self.canceled = False
        self.sleep_wakes: list[int] = []
        self._proxies: dict[int, JobsProxy] = {}

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

    def run(self) -> str:
        """Run the main job to its end or its next wait; record the outcome; return the status."""
        from stackflow.jobrun import JobRun

        if self.history.has_unfinished():
            self._abandon_unfinished()
        cancel = self.lease.cancel_requested
        if cancel is None:
            cancel = bool(self.store.cancel_requested([self.lease.execution_id]))
        self.canceled = cancel
        committed = self.history.latest("")
        if committed is not None and committed.status == "SUCCESS":
            # a transactional main job committed; its process died before finishing the execution
            return self._finish(JobRun(self, self.workflow.main_job, committed, 1), "SUCCESS")
        main = JobRun.for_path(self, self.workflow.main_job, "", self.lease.arg_json, parent=None)
        if main.recorded:
            main.record_result()  # a WAITING main job runs again
        # else its start is recorded with its outcome, or by the heartbeat if it runs long
        try:
            main = main.execute_with_retries_sync()
        except Suspend:
            self.store.park_execution(self.lease, min(self.sleep_wakes, default=None), now_ms())
            return "WAITING"
        except Canceled:
            return self._finish(main, "CANCELED")
        return self._finish(main, main.row.status)

    def _finish(self, main: Any, status: str) -> str:
        main.row.logs = main.log.text()
        wake_at_ms = None
        policy = self.workflow.retry_policy
        if status == "FAILED" and policy and self.retries_done < policy.max_retries:
            status = "PENDING_RETRY"
            wake_at_ms = now_ms() + int(policy.backoff_seconds(self.retries_done + 1) * 1000)
        main.record_with(
            lambda recorded: self.store.finish_execution(
                self.lease,
                main.row,
                main_job_recorded=recorded,
                status=status,
                result_json=main.row.result_json if status == "SUCCESS" else None,
                error_json=main.row.error_json,
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

"""Replay: running a claimed execution's jobs, call keys, cached results, non-determinism."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import itertools
import json
import os
import threading
import time
import traceback
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stackflow.asyncbridge import run_sync
from stackflow.context import JobContext, JobHandle, completed_handle, current_runner
from stackflow.definitions import JobsProxy, Workflow, WorkflowJob
from stackflow.errors import (
    JobFailed,
    LeaseLost,
    NonDeterminismError,
    PayloadTooLarge,
    StackDepthExceeded,
)
from stackflow.jsonvalue import decode, encode
from stackflow.logs import JobLog, current_log
from stackflow.records import ErrorInfo, Invoker
from stackflow.store.base import WORKER_LOST_ERROR, JobRow, Lease, Store

MAX_STACK_DEPTH = 64
POSITION_WIDTH = 6


def now_ms() -> int:
    """The current time in epoch milliseconds."""
    return time.time_ns() // 1_000_000


def new_id() -> str:
    """A fresh, time-ordered id (UUID version 7 layout) for executions and job executions."""
    value = (time.time_ns() // 1_000_000) << 80 | int.from_bytes(os.urandom(10), "big")
    value = (value & ~(0xF << 76)) | (0x7 << 76)
    value = (value & ~(0x3 << 62)) | (0x2 << 62)
    return str(uuid.UUID(int=value))


def child_path(parent_path: str, position: int) -> str:
    """The call path of the child at `position` of the job at `parent_path`."""
    segment = f"{position:0{POSITION_WIDTH}d}"
    return f"{parent_path}.{segment}" if parent_path else segment


def _parent_and_position(path: str) -> tuple[str, int]:
    parent, _, last = path.rpartition(".")
    return parent, int(last)


def job_failed_from_error(job_name: str, error: ErrorInfo) -> JobFailed:
    """The JobFailed a parent sees for a child that failed with `error`."""
    return JobFailed(
        job_name,
        error.get("type", "Error"),
        error.get("message", ""),
        stacked_job_name=error.get("stackedJobName"),
        traceback=error.get("traceback"),
    )


@dataclass(frozen=True)
class RunSettings:
    """What an execution run needs from its engine."""

    store: Store
    env: Mapping[str, Any]
    payload_limit_bytes: int
    pool: concurrent.futures.ThreadPoolExecutor


class History:
    """The recorded job executions of one execution, indexed for replay."""

    def __init__(self, rows: list[JobRow]) -> None:
        self.attempts: dict[str, list[JobRow]] = {}
        self.children: dict[str, set[int]] = {}
        self.next_seq = max((row.seq for row in rows), default=0) + 1
        for row in rows:
            self.attempts.setdefault(row.call_path, []).append(row)
            if row.call_path:
                parent, position = _parent_and_position(row.call_path)
                self.children.setdefault(parent, set()).add(position)
        self.rerun = self._rerun_paths()

    def latest(self, path: str) -> JobRow | None:
        attempts = self.attempts.get(path)
        return attempts[-1] if attempts else None

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
        self.invoker: Invoker | None = (
            json.loads(lease.invoker_json) if lease.invoker_json else None
        )
        self.history = History(self.store.load_job_rows(lease.execution_id))
        self._seqs = itertools.count(self.history.next_seq)
        self.inflight: dict[str, JobRun] = {}
        self._proxies: dict[int, JobsProxy] = {}

    def jobs_proxy(self, job: WorkflowJob) -> JobsProxy:
        proxy = self._proxies.get(id(job))
        if proxy is None:
            proxy = JobsProxy(job.deps, caller_is_async=job.is_async, owner=job.name)
            self._proxies[id(job)] = proxy
        return proxy

    def encode_payload(self, value: Any, what: str) -> str:
        text = encode(value, what=what)
        if len(text) > self.settings.payload_limit_bytes and (
            len(text.encode("utf-8")) > self.settings.payload_limit_bytes
        ):
            raise PayloadTooLarge(
                f"{what} is {len(text.encode('utf-8'))} bytes, over the payload limit of "
                f"{self.settings.payload_limit_bytes} bytes (engine.payload_limit_bytes)"
            )
        return text

    def run(self) -> str:
        """Run the main job to its end; record the outcome; return the final status."""
        if any(
            r.status in ("RUNNING", "SUSPEND") for a in self.history.attempts.values() for r in a
        ):
            self._abandon_unfinished()
        main_job = self.workflow.main_job
        previous = self.history.attempts.get("", [])
        main = JobRun(self, main_job, "", main_job.name, 1, self.lease.arg_json, len(previous) + 1)
        self.store.record_job_start(self.lease, main.row)
        main.recorded = True
        main.execute_sync()
        self.inflight.pop(main.row.id, None)
        main.row.logs = main.log.text()
        self.store.finish_execution(
            self.lease,
            main.row,
            main_job_recorded=True,
            status=main.row.status,
            result_json=main.row.result_json,
            error_json=main.row.error_json,
            now_ms=now_ms(),
        )
        return main.row.status

    def _abandon_unfinished(self) -> None:
        error: ErrorInfo = {
            "type": WORKER_LOST_ERROR,
            "message": "the process running this job stopped before the job finished",
        }
        self.store.abandon_unfinished_jobs(self.lease, json.dumps(error), now_ms())
        self.history = History(self.store.load_job_rows(self.lease.execution_id))
        self._seqs = itertools.count(self.history.next_seq)

    def next_seq(self) -> int:
        """The key of the next job execution of this execution."""
        return next(self._seqs)

    def flush_inflight(self) -> None:
        """Make long-running jobs visible: record the start of every unrecorded one."""
        for job_run in list(self.inflight.values()):
            job_run.record_start_if_needed()


class JobRun:
    """One attempt of one job inside an execution run; the runner its body's calls go to."""

    def __init__(
        self,
        run: ExecutionRun,
        job: WorkflowJob,
        call_path: str,
        stacked_name: str,
        depth: int,
        input_json: str,
        attempt: int,
    ) -> None:
        self.run = run
        self.job = job
        self.depth = depth
        self.row = JobRow(
            id=new_id(),
            execution_id=run.lease.execution_id,
            call_path=call_path,
            job_name=job.name,
            stacked_job_name=stacked_name,
            status="RUNNING",
            attempt=attempt,
            version=job.version,
            started_at_ms=now_ms(),
            input_json=input_json,
            seq=run.next_seq(),
        )
        self.recorded = False
        self.log = JobLog()
        self._record_lock = threading.Lock()
        self._positions = itertools.count()
        self._raised: list[tuple[JobFailed, str]] = []
        self._nondeterminism: NonDeterminismError | None = None

    # the JobRunner protocol
    def call_child(self, job: WorkflowJob, input: Any) -> Any:
        child, cached = self._open_child(job, input)
        if child is None:
            return cached
        child.execute_sync()
        return self._close_child(child)

    def start_child(self, job: WorkflowJob, input: Any) -> JobHandle:
        try:
            child, cached = self._open_child(job, input)
        except JobFailed as failed:
            future: concurrent.futures.Future[Any] = concurrent.futures.Future()
            future.set_exception(failed)
            return JobHandle(future)
        if child is None:
            return completed_handle(cached)
        if child.job.is_async and _running_loop() is not None:
            return JobHandle(asyncio.ensure_future(self._run_child_async(child)))
        context = contextvars.copy_context()
        return JobHandle(self.run.settings.pool.submit(context.run, self._run_child_sync, child))

    def _run_child_sync(self, child: JobRun) -> Any:
        child.execute_sync()
        return self._close_child(child)

    async def _run_child_async(self, child: JobRun) -> Any:
        await child.execute_async()
        return self._close_child(child)

    # opening and closing child calls
    def _open_child(self, job: WorkflowJob, input: Any) -> tuple[JobRun | None, Any]:
        """Assign the call its position; return the cached result or a child to run."""
        path = child_path(self.row.call_path, next(self._positions))
        input_json = self.run.encode_payload(
            {} if input is None else input, f"Input of job '{job.name}'"
        )
        if self.depth >= MAX_STACK_DEPTH:
            raise StackDepthExceeded(
                f"job '{job.name}' called at {self.row.stacked_job_name} would be "
                f"{self.depth + 1} jobs deep; the limit is {MAX_STACK_DEPTH}"
            )
        recorded = self.run.history.latest(path)
        attempt = 1
        if recorded is not None:
            self._check_same_call(recorded, job, input_json, path)
            if recorded.status == "SUCCESS":
                return None, decode(recorded.result_json or "null")
            if recorded.status == "FAILED" and path not in self.run.history.rerun:
                error: ErrorInfo = json.loads(recorded.error_json or "{}")
                raise self._remember(job_failed_from_error(job.name, error), path)
            attempt = len(self.run.history.attempts[path]) + 1
        stacked = f"{self.row.stacked_job_name}/{job.name}"
        return JobRun(self.run, job, path, stacked, self.depth + 1, input_json, attempt), None

    def _check_same_call(
        self, recorded: JobRow, job: WorkflowJob, input_json: str, path: str
    ) -> None:
        if recorded.job_name == job.name and recorded.input_json == input_json:
            return
        position = _parent_and_position(path)[1] + 1
        error = NonDeterminismError(
            f"non-determinism in job '{self.row.stacked_job_name}' at call #{position}: "
            f"the recorded call was {recorded.job_name}({recorded.input_json}), "
            f"the replay called {job.name}({input_json})"
        )
        self._nondeterminism = self._nondeterminism or error
        raise error

    def _close_child(self, child: JobRun) -> Any:
        """Record the finished child; return its result or raise JobFailed in this job."""
        self.run.inflight.pop(child.row.id, None)
        child.record_result()
        if child.row.status == "SUCCESS":
            return decode(child.row.result_json or "null")
        error: ErrorInfo = json.loads(child.row.error_json or "{}")
        raise self._remember(job_failed_from_error(child.job.name, error), child.row.call_path)

    def _remember(self, failed: JobFailed, path: str) -> JobFailed:
        self._raised.append((failed, path))
        return failed

    # running this job's body
    def _context(self) -> JobContext:
        return JobContext(
            jobs=self.run.jobs_proxy(self.job),
            env=self.run.settings.env,
            invoker=self.run.invoker,
            execution_id=self.row.execution_id,
            job_name=self.job.name,
            stacked_job_name=self.row.stacked_job_name,
            attempt=self.row.attempt,
        )

    def execute_sync(self) -> None:
        """Run the body here (async bodies on a loop of their own); keep the outcome."""
        self.run.inflight[self.row.id] = self
        runner_token = current_runner.set(self)
        log_token = current_log.set(self.log)
        try:
            value = self.job.invoke(decode(self.row.input_json), self._context())
            if self.job.is_async:
                value = run_sync(value)
            self._succeed(value)
        except LeaseLost:
            raise
        except Exception as error:
            self._fail(error)
        finally:
            current_log.reset(log_token)
            current_runner.reset(runner_token)

    async def execute_async(self) -> None:
        """Run an async body on the running loop; keep the outcome."""
        self.run.inflight[self.row.id] = self
        runner_token = current_runner.set(self)
        log_token = current_log.set(self.log)
        try:
            value = await self.job.invoke(decode(self.row.input_json), self._context())
            self._succeed(value)
        except LeaseLost:
            raise
        except Exception as error:
            self._fail(error)
        finally:
            current_log.reset(log_token)
            current_runner.reset(runner_token)

    def _succeed(self, value: Any) -> None:
        if self._nondeterminism is not None:
            raise self._nondeterminism
        self._check_all_recorded_calls_made()
        self.row.result_json = self.run.encode_payload(value, f"Result of job '{self.job.name}'")
        self.row.status = "SUCCESS"
        self.row.finished_at_ms = now_ms()

    def _check_all_recorded_calls_made(self) -> None:
        recorded = self.run.history.children.get(self.row.call_path)
        if not recorded:
            return
        made = next(self._positions)
        missing = sorted(p for p in recorded if p >= made)
        if missing:
            first = self.run.history.latest(child_path(self.row.call_path, missing[0]))
            call = f"{first.job_name}({first.input_json})" if first else "?"
            raise NonDeterminismError(
                f"non-determinism in job '{self.row.stacked_job_name}': the replay made {made} "
                f"calls but {max(recorded) + 1} were recorded; the first one not made was "
                f"#{missing[0] + 1}: {call}"
            )

    def _fail(self, error: BaseException) -> None:
        cause = self._child_failure_in(error)
        origin = error if isinstance(error, JobFailed) else None
        info: ErrorInfo = {
            "type": type(error).__name__,
            "message": str(error),
            "traceback": _traceback_text(error, origin),
            "stackedJobName": origin.stacked_job_name if origin else self.row.stacked_job_name,
        }
        self.row.error_json = json.dumps(info)
        self.row.failure_cause = cause
        self.row.status = "FAILED"
        self.row.finished_at_ms = now_ms()

    def _child_failure_in(self, error: BaseException) -> str | None:
        """The call path of the child whose JobFailed is in this error's chain, if any."""
        seen: set[int] = set()
        current: BaseException | None = error
        while current is not None and id(current) not in seen:
            seen.add(id(current))
            for failed, path in self._raised:
                if failed is current:
                    return path
            current = current.__cause__ or current.__context__
        return None

    # recording
    def record_start_if_needed(self) -> None:
        with self._record_lock:
            if not self.recorded and self.row.status == "RUNNING":
                self.run.store.record_job_start(self.run.lease, self.row)
                self.recorded = True

    def record_result(self) -> None:
        self.row.logs = self.log.text()
        with self._record_lock:
            self.run.store.record_job_result(
                self.run.lease, self.row, started_recorded=self.recorded
            )
            self.recorded = True


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _traceback_text(error: BaseException, origin: JobFailed | None) -> str:
    own = "".join(traceback.format_exception(error))
    if origin is not None and origin.traceback:
        return f"{origin.traceback}\nThat failure reached this job as:\n{own}"
    return own

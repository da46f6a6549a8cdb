"""One attempt of one job in a running execution: child calls, waits, the body, its record."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from stackflow.asyncbridge import run_sync
from stackflow.clock import now_ms
from stackflow.definitions.context import JobContext
from stackflow.definitions.handles import JobHandle, completed_handle, failed_handle
from stackflow.definitions.jobs import WorkflowJob
from stackflow.definitions.runner import current_runner
from stackflow.engine.job_failures import error_message, job_failed_from_error, traceback_text
from stackflow.engine.replay import child_path, parent_and_position, patch_path
from stackflow.errors import (
    DefinitionError,
    JobFailed,
    JobTimeout,
    LeaseLost,
    NonDeterminismError,
    StackDepthExceeded,
)
from stackflow.jsonvalue import decode, valid_text
from stackflow.logs import JobLog, current_log
from stackflow.records import ErrorInfo, Invoker, JobStatus
from stackflow.signals import Canceled, Suspend
from stackflow.store.base import PATCH, SLEEP, WAIT_POINT, JobRow, Lease, Store, WaitRow
from stackflow.telemetry.observer import JobObservation, RunObserver

if TYPE_CHECKING:
    from stackflow.engine.execution_run import ExecutionRun
    from stackflow.project.project import Project

MAX_STACK_DEPTH = 64
CANCELED_ERROR: ErrorInfo = {"type": "Canceled", "message": "the execution was canceled"}


class JobRun:
    """One attempt of one job inside an execution run; the runner its body's calls go to."""

    observation: JobObservation | None = None
    """Its span and duration while observed (set only when the run has an observer)."""
    previous: JobObservation | None = None
    """The observation of the attempt this one retries (its span links to it)."""

    def __init__(
        self, run: ExecutionRun, job: WorkflowJob, row: JobRow, depth: int, *, recorded: bool
    ) -> None:
        self.run = run
        self.job = job
        self.row = row
        self.depth = depth
        self.recorded = recorded
        """Whether the store holds this job execution's row (its start, or an outcome)."""
        self.log = JobLog(row.logs)
        self._record_lock = threading.Lock()
        self._positions = Positions()
        self._raised: list[tuple[JobFailed, str]] = []
        self._nondeterminism: NonDeterminismError | None = None
        self._abandoned = False
        self.result_recorded = False  # a transactional job wrote it with its own writes

    @classmethod
    def for_path(
        cls,
        run: ExecutionRun,
        job: WorkflowJob,
        path: str,
        input_json: str,
        *,
        parent: JobRun | None,
    ) -> JobRun:
        """The next attempt of `job` at `path` (a WAITING attempt is continued, not repeated)."""
        latest = run.history.latest(path)
        depth = parent.depth + 1 if parent else 1
        if latest is not None and latest.status == JobStatus.WAITING:
            return cls(run, job, replace(latest, status=JobStatus.RUNNING), depth, recorded=True)
        stacked = f"{parent.row.stacked_job_name}/{job.name}" if parent else job.name
        attempt = len(run.history.attempts.get(path, ())) + 1
        row = _new_row(run, job, path, stacked, input_json, attempt)
        return cls(run, job, row, depth, recorded=False)

    def next_attempt(self) -> JobRun:
        """A fresh attempt of this job at the same call path (job-level retry)."""
        row = _new_row(
            self.run,
            self.job,
            self.row.call_path,
            self.row.stacked_job_name,
            self.row.input_json,
            self.row.attempt + 1,
        )
        attempt = JobRun(self.run, self.job, row, self.depth, recorded=False)
        attempt.previous = self.observation
        return attempt

    # the JobRunner protocol
    def call_child(self, job: WorkflowJob, input: Any) -> Any:
        child, cached = self._open_child(job, input)
        if child is None:
            return cached
        return self._close_child(child.execute_with_retries_sync())

    def start_child(self, job: WorkflowJob, input: Any) -> JobHandle:
        try:
            child, cached = self._open_child(job, input)
        except JobFailed as failed:
            return failed_handle(failed)
        if child is None:
            return completed_handle(cached)
        if child.job.is_async and _running_loop() is not None:
            return JobHandle(asyncio.ensure_future(self._run_child_async(child)))
        context = contextvars.copy_context()
        return JobHandle(self.run.settings.pool.submit(context.run, self._run_child_sync, child))

    def wait_point(self, key: str, payload: Any) -> Any:
        """Return the resolved value of wait point `key` here, or park the execution."""
        path = self._next_path()
        wait = self._recorded_wait(path, WAIT_POINT, key, f"wait point '{key}'")
        if wait is None:
            payload_json = self.run.encode_payload(payload, f"The payload of wait point '{key}'")
            wait = WaitRow(
                self.row.execution_id, path, WAIT_POINT, key, payload_json, None, None, now_ms()
            )
            self._record_wait(wait)
        if wait.resolved_at_ms is None:
            raise Suspend(None)
        return decode(wait.result_json or "null")

    def sleep(self, seconds: float) -> None:
        """Sleep durably: park the execution until the wake time (once per call site)."""
        path = self._next_path()
        wait = self._recorded_wait(path, SLEEP, None, f"sleep({seconds:g})")
        if wait is None:
            if seconds <= 0:
                return
            wake = now_ms() + int(seconds * 1000)
            wait = WaitRow(self.row.execution_id, path, SLEEP, None, None, None, wake, now_ms())
            self._record_wait(wait)
        wake_at = wait.wake_at_ms or 0
        if now_ms() >= wake_at:
            return
        self.run.sleep_wakes.append(wake_at)
        raise Suspend(wake_at)

    def patched(self, change_id: str) -> bool:
        """Whether the code changed as `change_id` runs here: True unless this job's record
        shows calls made here before the change existed (docs/execution-model.md)."""
        position = self._positions.peek()
        marker = patch_path(child_path(self.row.call_path, position), change_id)
        history = self.run.history
        if marker in history.patches:
            return True
        if history.calls_from(self.row.call_path, position):
            return False
        if not self.job.transactional:  # a transactional job calls nothing after it
            self._record_marker(
                WaitRow(self.row.execution_id, marker, PATCH, change_id, None, None, None, now_ms())
            )
        history.patches.add(marker)
        return True

    def _record_wait(self, wait: WaitRow) -> None:
        """Record a wait point or sleep reached for the first time."""
        self.run.store.record_wait(self.run.lease, wait)

    def _record_marker(self, marker: WaitRow) -> None:
        """Record a `ctx.patched` marker before any later call of this job is recorded."""
        self._stop_if_released()
        self.run.store.record_wait(self.run.lease, marker)

    def _run_child_sync(self, child: JobRun) -> Any:
        return self._close_child(child.execute_with_retries_sync())

    async def _run_child_async(self, child: JobRun) -> Any:
        return self._close_child(await child.execute_with_retries_async())

    # opening and closing child calls
    def _next_path(self) -> str:
        if self.job.transactional:
            raise DefinitionError(
                f"job '{self.job.name}' is transactional: its body runs in one database "
                "transaction, so it cannot call other jobs, wait or sleep; do that in the "
                "job that calls it"
            )
        if self._abandoned:
            raise JobTimeout(f"job '{self.row.stacked_job_name}' timed out; it cannot call on")
        if self.run.released:  # the claim itself is checked before any body starts (_enter)
            self._stop_if_released()
        if self.run.canceled:
            raise Canceled()
        return child_path(self.row.call_path, self._positions.take())

    def _open_child(self, job: WorkflowJob, input: Any) -> tuple[JobRun | None, Any]:
        """Assign the call its position; return the cached result or a child to run."""
        path = self._next_path()
        project = self.run.settings.project
        if project is not None:
            project.check_bound(job, self.row.stacked_job_name)
        input_json = self.run.encode_payload(
            {} if input is None else input, f"Input of job '{job.name}'"
        )
        if self.depth >= MAX_STACK_DEPTH:
            raise StackDepthExceeded(
                f"job '{job.name}' called at {self.row.stacked_job_name} would be "
                f"{self.depth + 1} jobs deep; the limit is {MAX_STACK_DEPTH}"
            )
        if path in self.run.history.waits:
            self._nondeterministic(path, self._describe_wait(path), f"{job.name}({input_json})")
        recorded = self.run.history.latest(path)
        if recorded is not None:
            if recorded.job_name != job.name or recorded.input_json != input_json:
                self._nondeterministic(
                    path, f"{recorded.job_name}({recorded.input_json})", f"{job.name}({input_json})"
                )
            if recorded.status == JobStatus.SUCCESS:
                return None, decode(recorded.result_json or "null")
            if recorded.status == JobStatus.FAILED and path not in self.run.history.rerun:
                error: ErrorInfo = json.loads(recorded.error_json or "{}")
                raise self._remember(job_failed_from_error(job.name, error), path)
        return type(self).for_path(self.run, job, path, input_json, parent=self), None

    def _recorded_wait(self, path: str, kind: str, key: str | None, now: str) -> WaitRow | None:
        recorded = self.run.history.latest(path)
        if recorded is not None:
            self._nondeterministic(path, f"{recorded.job_name}({recorded.input_json})", now)
        wait = self.run.history.waits.get(path)
        if wait is not None and (wait.kind != kind or wait.key != key):
            self._nondeterministic(path, self._describe_wait(path), now)
        return wait

    def _describe_wait(self, path: str) -> str:
        wait = self.run.history.waits[path]
        return f"wait point '{wait.key}'" if wait.kind == WAIT_POINT else "sleep"

    def _nondeterministic(self, path: str, recorded: str, now: str) -> None:
        position = parent_and_position(path)[1] + 1
        error = NonDeterminismError(
            f"non-determinism in job '{self.row.stacked_job_name}' at call #{position}: "
            f"the recorded call was {recorded}, the replay called {now}"
        )
        self._nondeterminism = self._nondeterminism or error
        raise error

    def _close_child(self, child: JobRun) -> Any:
        """Record the finished child; return its result or raise JobFailed in this job."""
        child.record_result()
        if child.row.status == JobStatus.SUCCESS:
            return decode(child.row.result_json or "null")
        error: ErrorInfo = json.loads(child.row.error_json or "{}")
        raise self._remember(job_failed_from_error(child.job.name, error), child.row.call_path)

    def _remember(self, failed: JobFailed, path: str) -> JobFailed:
        self._raised.append((failed, path))
        return failed

    # running this job's body
    def _context(self) -> JobContext | None:
        if self.job.arity < 2:
            return None  # the body takes no ctx: do not build one
        return JobContext(
            jobs=self.run.jobs_proxy(self.job),
            env=self.run.settings.env,
            invoker=self.run.invoker,
            execution_id=self.row.execution_id,
            job_name=self.job.name,
            stacked_job_name=self.row.stacked_job_name,
            attempt=self.row.attempt,
        )

    def execute_with_retries_sync(self) -> JobRun:
        """Run the body, retrying in place under the job's retry policy; the last attempt."""
        current = self
        for retry in itertools.count(1):
            current.execute_sync()
            delay = current._retry_delay(retry)
            if delay is None:
                return current
            current.record_result()
            time.sleep(delay)
            current = current.next_attempt()
        raise AssertionError("unreachable")

    async def execute_with_retries_async(self) -> JobRun:
        """The async twin of execute_with_retries_sync."""
        current = self
        for retry in itertools.count(1):
            await current.execute_async()
            delay = current._retry_delay(retry)
            if delay is None:
                return current
            current.record_result()
            await asyncio.sleep(delay)
            current = current.next_attempt()
        raise AssertionError("unreachable")

    def _retry_delay(self, retry: int) -> float | None:
        policy = self.job.retry_policy
        if self.row.status != JobStatus.FAILED or policy is None or retry > policy.max_retries:
            return None
        if self._nondeterminism is not None:
            return None
        return policy.backoff_seconds(retry)

    def execute_sync(self) -> None:
        """Run the body here (async bodies on a loop of their own); keep the outcome."""
        with self._running(), self._transaction():
            self._succeed(self._invoke_sync())

    async def execute_async(self) -> None:
        """Run an async body on the running loop; keep the outcome."""
        with self._running(), self._transaction():
            self._succeed(await self._invoke_async())

    @contextmanager
    def _running(self) -> Iterator[None]:
        """This job is the current runner and log while the body runs; its outcome is kept.

        A failure becomes the job's FAILED outcome (not raised); waits and cancels unwind.
        """
        self._enter()
        observer = self.run.observer
        seen = None if observer is None else self._observe(observer)
        runner_token = current_runner.set(self)
        log_token = current_log.set(self.log)
        try:
            yield  # the caller opens the job's transaction in here: its failure fails the job
        except LeaseLost:
            raise
        except (Suspend, Canceled) as signal:
            self._stop(signal)
            raise
        except (Exception, KeyboardInterrupt, SystemExit) as error:  # the last two: raised by
            self._fail(error)  # the body, not at us
            if seen is not None:
                seen.failed(error)
        finally:
            current_log.reset(log_token)
            current_runner.reset(runner_token)
            self.run.inflight.pop(self.row.seq, None)
            if seen is not None:
                seen.ended(self.row.status)

    def _observe(self, observer: RunObserver) -> JobObservation:
        """Start this attempt's span (the current one while the body runs) and its clock."""
        row = self.row
        seen = observer.job_started(row.stacked_job_name, self.job.name, row.attempt, self.previous)
        self.observation = seen
        self.log.tag = seen.log_tag
        return seen

    def _transaction(self) -> AbstractContextManager[None]:
        """For a transactional job: one database transaction holding its writes and result."""
        if not self.job.transactional:
            return nullcontext()
        from stackflow.tailordb.jobs import job_transaction

        return job_transaction(self)

    # what TailorDB reads from the running job
    @property
    def invoker(self) -> Invoker | None:
        """The machine user the execution runs as."""
        return self.run.invoker

    @property
    def project(self) -> Project | None:
        """The project of the engine running this job, when it has one."""
        return self.run.settings.project

    @property
    def store(self) -> Store:
        """The store this job's execution is recorded in."""
        return self.run.store

    @property
    def execution_id(self) -> str:
        """The id of this job's execution (record triggers start theirs one level deeper)."""
        return self.row.execution_id

    @property
    def lease(self) -> Lease:
        """The lease under which this job's execution runs."""
        return self.run.lease

    def _stop_if_released(self) -> None:
        """Start nothing more once this process gave the execution back or lost its claim."""
        if self.run.released:
            raise LeaseLost(f"execution {self.row.execution_id} was given back by this process")
        if not self.run.holds():
            raise LeaseLost(
                f"execution {self.row.execution_id}: this process's lease ran out unrenewed "
                "(it was paused, or the store unreachable) or was taken over"
            )

    def _enter(self) -> None:
        self._stop_if_released()
        if self.run.canceled:
            raise Canceled()
        self.run.inflight[self.row.seq] = self

    def _invoke_sync(self) -> Any:
        input_value = decode(self.row.input_json)
        timeout = self.job.timeout_seconds
        if self.job.is_async:
            return run_sync(self._invoke_async(input_value))
        if timeout is None:
            return self.job.invoke(input_value, self._context())
        return self._invoke_in_thread(input_value, timeout)

    async def _invoke_async(self, input_value: Any = None) -> Any:
        if input_value is None:
            input_value = decode(self.row.input_json)
        coroutine = self.job.invoke(input_value, self._context())
        timeout = self.job.timeout_seconds
        if timeout is None:
            return await coroutine
        try:
            return await asyncio.wait_for(coroutine, timeout)
        except TimeoutError:
            raise self._timed_out(timeout) from None

    def _invoke_in_thread(self, input_value: Any, timeout: float) -> Any:
        """Run a def body under its timeout; past it the thread is abandoned."""
        outcome: concurrent.futures.Future[Any] = concurrent.futures.Future()
        context = contextvars.copy_context()

        def target() -> None:
            try:
                outcome.set_result(context.run(self.job.invoke, input_value, self._context()))
            except BaseException as error:
                outcome.set_exception(error)

        threading.Thread(target=target, name="stackflow-timed-job", daemon=True).start()
        try:
            return outcome.result(timeout)
        except concurrent.futures.TimeoutError:
            self._abandoned = True
            raise self._timed_out(timeout) from None

    def _timed_out(self, timeout: float) -> JobTimeout:
        return JobTimeout(
            f"job '{self.row.stacked_job_name}' ran longer than its timeout of {timeout:g}s"
        )

    def _succeed(self, value: Any) -> None:
        if self._nondeterminism is not None:
            raise self._nondeterminism
        self._check_all_recorded_calls_made()
        self.row.result_json = self.run.encode_payload(value, f"Result of job '{self.job.name}'")
        self.row.status = JobStatus.SUCCESS
        self.row.finished_at_ms = now_ms()

    def _check_all_recorded_calls_made(self) -> None:
        recorded = self.run.history.children.get(self.row.call_path)
        if not recorded:
            return
        made = self._positions.peek()
        missing = sorted(p for p in recorded if p >= made)
        if missing:
            path = child_path(self.row.call_path, missing[0])
            first = self.run.history.latest(path)
            call = f"{first.job_name}({first.input_json})" if first else self._describe_wait(path)
            raise NonDeterminismError(
                f"non-determinism in job '{self.row.stacked_job_name}': the replay made {made} "
                f"calls but {max(recorded) + 1} were recorded; the first one not made was "
                f"#{missing[0] + 1}: {call}"
            )

    def _stop(self, signal: Suspend | Canceled) -> None:
        if isinstance(signal, Suspend):
            self.row.status = JobStatus.WAITING
        else:
            self.row.status = JobStatus.CANCELED
            self.row.error_json = json.dumps(CANCELED_ERROR)
            self.row.finished_at_ms = now_ms()
        self.record_result()

    def _fail(self, error: BaseException) -> None:
        origin = error if isinstance(error, JobFailed) else None
        info: ErrorInfo = {
            "type": type(error).__name__,
            "message": valid_text(error_message(error)),
            "traceback": valid_text(traceback_text(error, origin)),
            "stackedJobName": origin.stacked_job_name if origin else self.row.stacked_job_name,
        }
        self.row.error_json = json.dumps(info)
        self.row.failure_cause = self._child_failure_in(error)
        self.row.status = JobStatus.FAILED
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
        """Record this job as running, unless it already is in the store."""
        with self._record_lock:
            if not self.recorded and self.row.status == JobStatus.RUNNING:
                self.run.store.record_job_start(self.run.lease, self.row)
                self.recorded = True

    def record_result(self) -> None:
        """Write this attempt's outcome (or its WAITING state) to the store."""
        if self.result_recorded:
            return
        self.row.logs = valid_text(self.log.text())
        self.record_with(
            lambda recorded: self.run.store.record_job_result(
                self.run.lease, self.row, started_recorded=recorded
            )
        )

    def record_with(self, write: Callable[[bool], object]) -> None:
        """Run `write(already recorded?)` under the record lock (the heartbeat records too)."""
        with self._record_lock:
            write(self.recorded)
            self.recorded = True


class Positions:
    """The positions of one job's calls in program order, handed out as the calls are made."""

    def __init__(self) -> None:
        self._next = 0
        self._lock = threading.Lock()

    def take(self) -> int:
        """The position of the call being made."""
        with self._lock:
            position = self._next
            self._next += 1
            return position

    def peek(self) -> int:
        """The position the next call will take (the number of calls made so far)."""
        return self._next


def _new_row(
    run: ExecutionRun, job: WorkflowJob, path: str, stacked: str, input_json: str, attempt: int
) -> JobRow:
    seq = run.next_seq()
    return JobRow(
        execution_id=run.lease.execution_id,
        call_path=path,
        job_name=job.name,
        stacked_job_name=stacked,
        status=JobStatus.RUNNING,
        attempt=attempt,
        version=job.version,
        started_at_ms=now_ms(),
        input_json=input_json,
        seq=seq,
    )


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None

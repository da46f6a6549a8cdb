"""The running job: JobContext for bodies, the ContextVar of the current job, child handles."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import time
from collections.abc import Generator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from stackflow.definitions import JobsProxy, WorkflowJob

_job_logger = logging.getLogger("stackflow.job")
_job_logger.setLevel(logging.DEBUG)  # ctx.logger records always reach the job's log


class JobRunner(Protocol):
    """What `job.trigger` and `job.start` call while a job is running."""

    def call_child(self, job: WorkflowJob, input: Any) -> Any:
        """Run `job` as a child of the running job and return its result."""
        ...

    def start_child(self, job: WorkflowJob, input: Any) -> JobHandle:
        """Start `job` as a child of the running job, in parallel."""
        ...


current_runner: ContextVar[JobRunner | None] = ContextVar("stackflow_current_runner", default=None)
"""The job running in this context (an engine job or a local one), if any."""


def _empty_jobs() -> JobsProxy:
    from stackflow.definitions import JobsProxy

    return JobsProxy((), caller_is_async=False)


@dataclass
class JobContext:
    """The second argument of a job body.

    Build one in a unit test with `JobContext(env={...})`.
    """

    jobs: JobsProxy = field(default_factory=_empty_jobs)
    env: Mapping[str, Any] = field(default_factory=dict)
    invoker: Mapping[str, Any] | None = None
    execution_id: str | None = None
    job_name: str | None = None
    stacked_job_name: str | None = None
    attempt: int = 1
    logger: logging.Logger = _job_logger

    def sleep(self, seconds: float) -> None:
        """Sleep durably: the execution waits (holding no worker) and resumes after `seconds`.

        A replay after waking does not sleep again. Outside an execution it just sleeps.
        """
        runner = current_runner.get()
        sleeper = getattr(runner, "sleep", None)
        if sleeper is None:
            time.sleep(seconds)
            return
        sleeper(seconds)

    async def sleep_async(self, seconds: float) -> None:
        """The `async def` form of sleep."""
        runner = current_runner.get()
        sleeper = getattr(runner, "sleep", None)
        if sleeper is None:
            await asyncio.sleep(seconds)
            return
        sleeper(seconds)


class JobHandle:
    """A child job started in parallel: `.result(timeout)` or `await handle`."""

    def __init__(self, future: concurrent.futures.Future[Any] | asyncio.Future[Any]) -> None:
        self._future = future

    def result(self, timeout: float | None = None) -> Any:
        """Block until the child finishes; return its result or raise JobFailed."""
        if isinstance(self._future, asyncio.Future):
            if not self._future.done():
                raise RuntimeError("await this handle: its job runs on this thread's event loop")
            return self._future.result()
        return self._future.result(timeout)

    def done(self) -> bool:
        """Whether the child has finished."""
        return self._future.done()

    def __await__(self) -> Generator[Any, None, Any]:
        if isinstance(self._future, asyncio.Future):
            return self._future.__await__()
        return asyncio.wrap_future(self._future).__await__()


def completed_handle(value: Any) -> JobHandle:
    """A handle that is already finished with `value`."""
    future: concurrent.futures.Future[Any] = concurrent.futures.Future()
    future.set_result(value)
    return JobHandle(future)

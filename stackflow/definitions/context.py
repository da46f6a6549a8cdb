"""JobContext: the second argument of a job body."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from stackflow.definitions.deps import JobsProxy
from stackflow.definitions.runner import current_runner

_job_logger = logging.getLogger("stackflow.job")
_job_logger.setLevel(logging.DEBUG)  # ctx.logger records always reach the job's log


def _empty_jobs() -> JobsProxy:
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

"""Local mode: `job.trigger` outside any execution runs the body here, with no store."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from stackflow.asyncbridge import run_sync
from stackflow.definitions.context import JobContext
from stackflow.definitions.deps import JobsProxy
from stackflow.definitions.handles import JobHandle, completed_handle
from stackflow.definitions.runner import current_runner
from stackflow.errors import ConfigError, JobFailed
from stackflow.jsonvalue import round_trip

if TYPE_CHECKING:
    from stackflow.definitions.jobs import WorkflowJob

TEST_ENV_VARIABLE = "STACKFLOW_TEST_ENV"

_local_stack: ContextVar[tuple[str, ...]] = ContextVar("stackflow_local_stack", default=())


def local_env() -> Mapping[str, Any]:
    """The `env` of locally triggered jobs: the JSON object in STACKFLOW_TEST_ENV."""
    raw = os.environ.get(TEST_ENV_VARIABLE)
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as error:
        raise ConfigError(f"{TEST_ENV_VARIABLE} is not valid JSON ({error.msg}): {raw!r}") from None
    if not isinstance(value, dict):
        raise ConfigError(
            f'{TEST_ENV_VARIABLE} must hold a JSON object, like \'{{"key": "value"}}\'; '
            f"got {type(value).__name__}"
        )
    return value


class LocalRunner:
    """The runner of a locally triggered job: its children run locally too."""

    def call_child(self, job: WorkflowJob, input: Any) -> Any:
        try:
            return run_local(job, input)
        except JobFailed:
            raise
        except Exception as error:
            raise JobFailed(
                job.name,
                type(error).__name__,
                str(error),
                stacked_job_name="/".join((*_local_stack.get(), job.name)),
            ) from error

    def start_child(self, job: WorkflowJob, input: Any) -> JobHandle:
        return completed_handle(self.call_child(job, input))


def run_local(job: WorkflowJob, input: Any) -> Any:
    """Run `job`'s body in this process with the JSON round trip on its input and result."""
    value = round_trip({} if input is None else input, what=f"Input of job '{job.name}'")
    stack = (*_local_stack.get(), job.name)
    ctx = JobContext(
        jobs=JobsProxy(job.deps, caller_is_async=job.is_async, owner=job.name),
        env=local_env(),
        job_name=job.name,
        stacked_job_name="/".join(stack),
    )
    stack_token = _local_stack.set(stack)
    runner_token = current_runner.set(LocalRunner())
    try:
        result = job.invoke(value, ctx)
        if job.is_async:
            result = run_sync(result)
    finally:
        current_runner.reset(runner_token)
        _local_stack.reset(stack_token)
    return round_trip(result, what=f"Result of job '{job.name}'")

"""Workflows: a name and the main job its executions run; `create_workflow`."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from stackflow.definitions.jobs import WorkflowJob
from stackflow.definitions.names import attribute_name, check_name
from stackflow.definitions.policies import ConcurrencyPolicy, RetryPolicy, check_retry_policy
from stackflow.definitions.starter import default_starter
from stackflow.errors import DefinitionError

if TYPE_CHECKING:
    from stackflow.records import Invoker


class Workflow:
    """A workflow: a name and the main job its executions run."""

    def __init__(
        self,
        name: str,
        main_job: WorkflowJob,
        *,
        description: str | None = None,
        retry_policy: RetryPolicy | None = None,
        concurrency_policy: ConcurrencyPolicy | None = None,
        defined_at: tuple[str, int] | None = None,
    ) -> None:
        self.name = check_name("workflow", name)
        if isinstance(main_job, str):
            raise TypeError(
                f"main_job of workflow {name!r} must be a job object, not the string "
                f"{main_job!r}: pass the job itself (main_job={attribute_name(main_job)})"
            )
        if not isinstance(main_job, WorkflowJob):
            raise DefinitionError(
                f"main_job of workflow {name!r} must be a job made by create_workflow_job, "
                f"got {main_job!r}"
            )
        self.main_job = main_job
        self.description = description
        self.retry_policy = check_retry_policy(f"workflow {name!r}", retry_policy)
        if concurrency_policy is not None and not isinstance(concurrency_policy, ConcurrencyPolicy):
            raise DefinitionError(
                f"concurrency_policy of workflow {name!r} must be a ConcurrencyPolicy, "
                f"got {concurrency_policy!r}"
            )
        self.concurrency_policy = concurrency_policy
        self.defined_at = defined_at

    def trigger(self, args: Any = None, *, invoker: str | Invoker | None = None) -> str:
        """Start an execution with the project's engine and return its id."""
        return default_starter().start(self, args, invoker=invoker)

    def __repr__(self) -> str:
        return f"<Workflow {self.name!r} main_job={self.main_job.name!r}>"


def create_workflow(
    name: str | None = None,
    main_job: WorkflowJob | None = None,
    *,
    description: str | None = None,
    retry_policy: RetryPolicy | None = None,
    concurrency_policy: ConcurrencyPolicy | None = None,
) -> Workflow:
    """Define a workflow; a workflow module defines exactly one, at module level."""
    if name is None:
        raise DefinitionError(
            "create_workflow needs a name: create_workflow(name=..., main_job=...)"
        )
    if main_job is None:
        raise DefinitionError(
            f"create_workflow(name={name!r}) is missing main_job: every workflow needs a "
            "main job, e.g. create_workflow(name=..., main_job=process_order)"
        )
    caller = sys._getframe(1)
    return Workflow(
        name,
        main_job,
        description=description,
        retry_policy=retry_policy,
        concurrency_policy=concurrency_policy,
        defined_at=(caller.f_code.co_filename, caller.f_lineno),
    )

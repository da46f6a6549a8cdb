"""Job and workflow definitions: WorkflowJob, Workflow, their constructors and the deps proxy."""

from __future__ import annotations

import hashlib
import inspect
import re
import sys
import textwrap
from collections.abc import Callable, Iterable, Iterator
from functools import cached_property
from typing import TYPE_CHECKING, Any

from stackflow.context import JobContext, JobHandle, completed_handle, current_runner
from stackflow.durations import parse_duration
from stackflow.errors import DefinitionError
from stackflow.policies import ConcurrencyPolicy, RetryPolicy

if TYPE_CHECKING:
    from stackflow.records import Invoker

_SEPARATORS = re.compile(r"[-\s]")
VERSION_LENGTH = 12


def attribute_name(job_name: str) -> str:
    """The `ctx.jobs` attribute of a job name: each `-` or whitespace becomes `_`."""
    return _SEPARATORS.sub("_", job_name)


def _check_name(kind: str, name: object) -> str:
    if not isinstance(name, str) or not name.strip():
        raise DefinitionError(f"{kind} name must be a non-empty string, got {name!r}")
    if "/" in name:
        raise DefinitionError(
            f"{kind} name {name!r} must not contain '/' (it separates stacked names)"
        )
    return name


def _body_arity(name: str, body: Callable[..., Any]) -> int:
    try:
        parameters = inspect.signature(body).parameters.values()
    except (TypeError, ValueError):
        return 2
    kinds = [p.kind for p in parameters]
    if inspect.Parameter.VAR_POSITIONAL in kinds:
        return 2
    positional = [
        p
        for p in parameters
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty
    ]
    if len(positional) > 2:
        raise DefinitionError(
            f"body of job {name!r} takes {len(positional)} arguments; "
            "a body takes (), (input) or (input, ctx)"
        )
    optional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return min(len(optional), 2)


def _check_deps(owner: str, deps: Iterable[object]) -> tuple[WorkflowJob, ...]:
    if isinstance(deps, str | WorkflowJob):
        deps = [deps]
    checked: list[WorkflowJob] = []
    for dep in deps:
        if isinstance(dep, str):
            raise TypeError(
                f"deps of job {owner!r} must be job objects, not the string {dep!r}: "
                f"pass the job object itself (deps=[{attribute_name(dep)}]), not its name"
            )
        if not isinstance(dep, WorkflowJob):
            raise TypeError(
                f"deps of job {owner!r} must be job objects made by create_workflow_job, "
                f"got {type(dep).__name__}: {dep!r}"
            )
        if dep not in checked:
            checked.append(dep)
    by_attribute: dict[str, WorkflowJob] = {}
    for dep in checked:
        clash = by_attribute.setdefault(dep.attribute_name, dep)
        if clash is not dep:
            raise DefinitionError(
                f"deps of job {owner!r}: {clash.name!r} and {dep.name!r} both map to "
                f"ctx.jobs.{dep.attribute_name}; rename one"
            )
    return tuple(checked)


def _timeout_seconds(name: str, timeout: str | float | None) -> float | None:
    if timeout is None:
        return None
    try:
        seconds = parse_duration(timeout, name=f"timeout of job {name!r}")
    except ValueError as error:
        raise DefinitionError(str(error)) from None
    if seconds <= 0:
        raise DefinitionError(f"timeout of job {name!r} must be more than 0, got {timeout!r}")
    return seconds


def _check_retry_policy(owner: str, policy: object) -> RetryPolicy | None:
    if policy is not None and not isinstance(policy, RetryPolicy):
        raise DefinitionError(f"retry_policy of {owner} must be a RetryPolicy, got {policy!r}")
    return policy


class WorkflowJob:
    """A job: a named body that can call its deps; made by create_workflow_job."""

    def __init__(
        self,
        name: str,
        body: Callable[..., Any],
        deps: Iterable[WorkflowJob] = (),
        *,
        transactional: bool | str = False,
        timeout: str | float | None = None,
        retry_policy: RetryPolicy | None = None,
    ) -> None:
        self.name = _check_name("job", name)
        if not callable(body):
            raise DefinitionError(f"body of job {name!r} must be a function, got {body!r}")
        self.body = body
        self.deps = _check_deps(name, deps)
        self.transactional = transactional
        self.timeout_seconds = _timeout_seconds(name, timeout)
        self.retry_policy = _check_retry_policy(f"job {name!r}", retry_policy)
        self.is_async = inspect.iscoroutinefunction(body)
        self.arity = _body_arity(name, body)

    @property
    def attribute_name(self) -> str:
        """The name of this job under `ctx.jobs` (`fetch-customer` → `fetch_customer`)."""
        return attribute_name(self.name)

    @cached_property
    def source_location(self) -> tuple[str, int] | None:
        """The file and line where the body is defined, when known."""
        code = getattr(self.body, "__code__", None)
        return (code.co_filename, code.co_firstlineno) if code else None

    @cached_property
    def version(self) -> str:
        """A short hash of the body's source: changes when the job's code changes."""
        try:
            source = textwrap.dedent(inspect.getsource(self.body))
        except (OSError, TypeError):
            code = getattr(self.body, "__code__", None)
            source = repr(code.co_code if code else self.body)
        digest = hashlib.sha256(source.encode("utf-8")).hexdigest()
        return digest[:VERSION_LENGTH]

    def invoke(self, input: Any, ctx: JobContext | None) -> Any:
        """Call the body with the arguments its signature takes (a coroutine if async)."""
        if self.arity == 0:
            return self.body()
        if self.arity == 1:
            return self.body(input)
        return self.body(input, ctx)

    def trigger(self, input: Any = None) -> Any:
        """Run this job and return its result.

        Inside a running job: a durable child call. Outside any execution:
        the body runs here with no persistence (local mode, for unit tests).
        """
        runner = current_runner.get()
        if runner is None:
            from stackflow.local import run_local

            return run_local(self, input)
        return runner.call_child(self, input)

    def start(self, input: Any = None) -> JobHandle:
        """Start this job in parallel and return a handle to its result."""
        runner = current_runner.get()
        if runner is None:
            return completed_handle(self.trigger(input))
        return runner.start_child(self, input)

    def __repr__(self) -> str:
        return f"<WorkflowJob {self.name!r}>"


def create_workflow_job(
    name: str,
    body: Callable[..., Any],
    deps: Iterable[WorkflowJob] = (),
    *,
    transactional: bool | str = False,
    timeout: str | float | None = None,
    retry_policy: RetryPolicy | None = None,
) -> WorkflowJob:
    """Define a job. Bind it to a module-level name so the project can find it."""
    return WorkflowJob(
        name,
        body,
        deps,
        transactional=transactional,
        timeout=timeout,
        retry_policy=retry_policy,
    )


def workflow_job(
    name: str,
    deps: Iterable[WorkflowJob] = (),
    *,
    transactional: bool | str = False,
    timeout: str | float | None = None,
    retry_policy: RetryPolicy | None = None,
) -> Callable[[Callable[..., Any]], WorkflowJob]:
    """Decorator form of create_workflow_job: `@workflow_job("process-order", deps=[...])`."""
    if callable(name) and not isinstance(name, str):
        raise DefinitionError("workflow_job needs a name: write @workflow_job('my-job')")

    def decorate(body: Callable[..., Any]) -> WorkflowJob:
        return WorkflowJob(
            name,
            body,
            deps,
            transactional=transactional,
            timeout=timeout,
            retry_policy=retry_policy,
        )

    return decorate


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
        self.name = _check_name("workflow", name)
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
        self.retry_policy = _check_retry_policy(f"workflow {name!r}", retry_policy)
        if concurrency_policy is not None and not isinstance(concurrency_policy, ConcurrencyPolicy):
            raise DefinitionError(
                f"concurrency_policy of workflow {name!r} must be a ConcurrencyPolicy, "
                f"got {concurrency_policy!r}"
            )
        self.concurrency_policy = concurrency_policy
        self.defined_at = defined_at

    def trigger(self, args: Any = None, *, invoker: str | Invoker | None = None) -> str:
        """Start an execution with the project's engine and return its id."""
        from stackflow.executions import project_engine

        return project_engine().start(self, args, invoker=invoker)

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


class DepHandle:
    """One dep as seen from `ctx.jobs`: `.trigger`, `.start`, or called directly."""

    def __init__(self, job: WorkflowJob, caller_is_async: bool) -> None:
        self.job = job
        self._caller_is_async = caller_is_async

    def trigger(self, input: Any = None) -> Any:
        """Run the dep and return its result (through the job's own `trigger`)."""
        return self.job.trigger(input)

    def start(self, input: Any = None) -> JobHandle:
        """Start the dep in parallel and return a handle."""
        return self.job.start(input)

    def __call__(self, input: Any = None) -> Any:
        """Like trigger in a `def` body; an awaitable in an `async def` body."""
        if not self._caller_is_async:
            return self.job.trigger(input)
        if "trigger" in vars(self.job):  # replaced, e.g. by unittest.mock.patch.object
            value = self.job.trigger(input)
            return value if inspect.isawaitable(value) else completed_handle(value)
        return self.job.start(input)

    def __repr__(self) -> str:
        return f"<dep {self.job.name!r}>"


class JobsProxy:
    """`ctx.jobs`: a job's direct deps by attribute (`fetch_customer`) or name."""

    def __init__(
        self, deps: Iterable[WorkflowJob], *, caller_is_async: bool, owner: str | None = None
    ) -> None:
        self._deps = {dep.attribute_name: dep for dep in deps}
        self._caller_is_async = caller_is_async
        self._owner = owner

    def _unknown(self, name: str) -> str:
        listed = ", ".join(f"{a} ({d.name})" for a, d in self._deps.items()) or "none"
        who = f"job {self._owner!r}" if self._owner else "this job"
        return f"{name!r} is not a dep of {who}; its deps are: {listed}"

    def __getattr__(self, name: str) -> DepHandle:
        if name.startswith("__"):
            raise AttributeError(name)
        dep = self._deps.get(name)
        if dep is None:
            raise AttributeError(self._unknown(name))
        return DepHandle(dep, self._caller_is_async)

    def __getitem__(self, name: str) -> DepHandle:
        dep = self._deps.get(attribute_name(name))
        if dep is None or dep.name not in (name, attribute_name(name)):
            raise KeyError(self._unknown(name))
        return DepHandle(dep, self._caller_is_async)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and attribute_name(name) in self._deps

    def __iter__(self) -> Iterator[str]:
        return iter(dep.name for dep in self._deps.values())

    def __len__(self) -> int:
        return len(self._deps)

    def __dir__(self) -> list[str]:
        return sorted(self._deps)

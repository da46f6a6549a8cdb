"""Jobs: WorkflowJob, `create_workflow_job` and the `@workflow_job` decorator."""

from __future__ import annotations

import hashlib
import inspect
import textwrap
from collections.abc import Callable, Coroutine, Iterable
from functools import cached_property
from typing import TYPE_CHECKING, Any, Generic, Protocol, overload

from typing_extensions import TypeVar

from stackflow.definitions.boundary import (
    Convert,
    Unresolved,
    boundary_types,
    input_converter,
    output_converter,
)
from stackflow.definitions.handles import JobHandle, completed_handle
from stackflow.definitions.local import run_local
from stackflow.definitions.names import attribute_name, check_name
from stackflow.definitions.policies import RetryPolicy, check_retry_policy
from stackflow.definitions.runner import current_runner
from stackflow.durations import parse_duration
from stackflow.errors import DefinitionError, DuplicateJobName

if TYPE_CHECKING:
    from stackflow.definitions.context import JobContext

VERSION_LENGTH = 12

In = TypeVar("In", default=Any)
"""A job's input type (`WorkflowJob[In, Out]`), from its body's first parameter."""
Out = TypeVar("Out", default=Any)
"""A job's result type, from its body's return annotation (of the coroutine when async)."""


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
            raise DuplicateJobName(_clash_message(owner, clash, dep))
    return tuple(checked)


def _clash_message(owner: str, clash: WorkflowJob, dep: WorkflowJob) -> str:
    if clash.name == dep.name:
        return (
            f"deps of job {owner!r} hold two different jobs named {dep.name!r}; job names "
            "must be unique across the project: rename one, or list the same job once"
        )
    return (
        f"deps of job {owner!r}: {clash.name!r} and {dep.name!r} both map to "
        f"ctx.jobs.{dep.attribute_name}; rename one"
    )


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


class WorkflowJob(Generic[In, Out]):
    """A job: a named body that can call its deps; made by create_workflow_job.

    Typed by its body: `WorkflowJob[In, Out]`, so `job.trigger(x)` returns `Out` and
    `job.start(x)` a `JobHandle[Out]`. With `In` a pydantic model, a dataclass or a
    TypedDict the input is validated and converted when the job starts.
    """

    def __init__(
        self,
        name: str,
        body: Callable[..., Any],
        deps: Iterable[WorkflowJob[Any, Any]] = (),
        *,
        transactional: bool | str = False,
        timeout: str | float | None = None,
        retry_policy: RetryPolicy | None = None,
    ) -> None:
        self.name = check_name("job", name)
        if not callable(body):
            raise DefinitionError(f"body of job {name!r} must be a function, got {body!r}")
        self.body = body
        self.deps = _check_deps(name, deps)
        self.transactional = transactional
        self.timeout_seconds = _timeout_seconds(name, timeout)
        self.retry_policy = check_retry_policy(f"job {name!r}", retry_policy)
        self.is_async = inspect.iscoroutinefunction(body)
        self.arity = _body_arity(name, body)
        self._to_input: Convert | None = None
        """JSON → the body's input type (validating), None for plain inputs."""
        self._to_result: Convert | None = None
        """JSON → the body's result type, None for plain results."""
        self._resolve_types(at_definition=True)

    def _resolve_types(self, *, at_definition: bool = False) -> None:
        """Find the converters; an annotation not defined yet is looked at on first use
        (and, if it is still not defined then, e.g. imported for type checking only, the
        value passes through as it is)."""
        try:
            input_type, result_type = boundary_types(self.body, self.arity > 0)
        except Unresolved:
            if at_definition:
                self._to_input, self._to_result = self._late_input, self._late_result
            else:
                self._to_input = self._to_result = None
            return
        self._to_input = input_converter(self.name, input_type)
        self._to_result = output_converter(self.name, result_type)

    def _late_input(self, value: Any) -> Any:
        self._resolve_types()
        return value if self._to_input is None else self._to_input(value)

    def _late_result(self, value: Any) -> Any:
        self._resolve_types()
        return value if self._to_result is None else self._to_result(value)

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
        """Call the body with the arguments its signature takes (a coroutine if async).

        A typed input is validated and converted first (InvalidJobInput names the field).
        """
        if self.arity == 0:
            return self.body()
        if self._to_input is not None:
            input = self._to_input(input)
        if self.arity == 1:
            return self.body(input)
        return self.body(input, ctx)

    def trigger(self, input: In | None = None) -> Out:
        """Run this job and return its result.

        Inside a running job: a durable child call. Outside any execution:
        the body runs here with no persistence (local mode, for unit tests).
        """
        runner = current_runner.get()
        value = run_local(self, input) if runner is None else runner.call_child(self, input)
        return value if self._to_result is None else self._to_result(value)  # type: ignore[no-any-return]

    def start(self, input: In | None = None) -> JobHandle[Out]:
        """Start this job in parallel and return a handle to its result."""
        runner = current_runner.get()
        if runner is None:
            return completed_handle(self.trigger(input))
        return runner.start_child(self, input).with_result_type(self._to_result)

    def __repr__(self) -> str:
        return f"<WorkflowJob {self.name!r}>"


Deps = Iterable[WorkflowJob[Any, Any]]


class JobDecorator(Protocol):
    """What `@workflow_job(...)` returns: it makes a typed WorkflowJob of the body."""

    @overload
    def __call__(
        self, body: Callable[[In, JobContext], Coroutine[Any, Any, Out]], /
    ) -> WorkflowJob[In, Out]: ...

    @overload
    def __call__(self, body: Callable[[In, JobContext], Out], /) -> WorkflowJob[In, Out]: ...

    @overload
    def __call__(
        self, body: Callable[[In], Coroutine[Any, Any, Out]], /
    ) -> WorkflowJob[In, Out]: ...

    @overload
    def __call__(self, body: Callable[[In], Out], /) -> WorkflowJob[In, Out]: ...

    @overload
    def __call__(
        self, body: Callable[[], Coroutine[Any, Any, Out]], /
    ) -> WorkflowJob[Any, Out]: ...

    @overload
    def __call__(self, body: Callable[[], Out], /) -> WorkflowJob[Any, Out]: ...

    def __call__(self, body: Callable[..., Any], /) -> WorkflowJob[Any, Any]: ...


@overload
def create_workflow_job(
    name: str,
    body: Callable[[In, JobContext], Coroutine[Any, Any, Out]],
    deps: Deps = ...,
    *,
    transactional: bool | str = ...,
    timeout: str | float | None = ...,
    retry_policy: RetryPolicy | None = ...,
) -> WorkflowJob[In, Out]: ...


@overload
def create_workflow_job(
    name: str,
    body: Callable[[In, JobContext], Out],
    deps: Deps = ...,
    *,
    transactional: bool | str = ...,
    timeout: str | float | None = ...,
    retry_policy: RetryPolicy | None = ...,
) -> WorkflowJob[In, Out]: ...


@overload
def create_workflow_job(
    name: str,
    body: Callable[[In], Coroutine[Any, Any, Out]],
    deps: Deps = ...,
    *,
    transactional: bool | str = ...,
    timeout: str | float | None = ...,
    retry_policy: RetryPolicy | None = ...,
) -> WorkflowJob[In, Out]: ...


@overload
def create_workflow_job(
    name: str,
    body: Callable[[In], Out],
    deps: Deps = ...,
    *,
    transactional: bool | str = ...,
    timeout: str | float | None = ...,
    retry_policy: RetryPolicy | None = ...,
) -> WorkflowJob[In, Out]: ...


@overload
def create_workflow_job(
    name: str,
    body: Callable[[], Coroutine[Any, Any, Out]],
    deps: Deps = ...,
    *,
    transactional: bool | str = ...,
    timeout: str | float | None = ...,
    retry_policy: RetryPolicy | None = ...,
) -> WorkflowJob[Any, Out]: ...


@overload
def create_workflow_job(
    name: str,
    body: Callable[[], Out],
    deps: Deps = ...,
    *,
    transactional: bool | str = ...,
    timeout: str | float | None = ...,
    retry_policy: RetryPolicy | None = ...,
) -> WorkflowJob[Any, Out]: ...


def create_workflow_job(
    name: str,
    body: Callable[..., Any],
    deps: Deps = (),
    *,
    transactional: bool | str = False,
    timeout: str | float | None = None,
    retry_policy: RetryPolicy | None = None,
) -> WorkflowJob[Any, Any]:
    """Define a job. Bind it to a module-level name so the project can find it.

    The job is typed by its body's annotations: `WorkflowJob[In, Out]`.
    """
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
    deps: Deps = (),
    *,
    transactional: bool | str = False,
    timeout: str | float | None = None,
    retry_policy: RetryPolicy | None = None,
) -> JobDecorator:
    """Decorator form of create_workflow_job: `@workflow_job("process-order", deps=[...])`."""
    if callable(name) and not isinstance(name, str):
        raise DefinitionError("workflow_job needs a name: write @workflow_job('my-job')")

    def decorate(body: Callable[..., Any], /) -> WorkflowJob[Any, Any]:
        return WorkflowJob(
            name,
            body,
            deps,
            transactional=transactional,
            timeout=timeout,
            retry_policy=retry_policy,
        )

    return decorate

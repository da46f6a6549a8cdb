"""`ctx.jobs`: a job's direct deps, each callable as `.trigger`, `.start` or directly."""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from stackflow.definitions.handles import JobHandle, completed_handle
from stackflow.definitions.names import attribute_name

if TYPE_CHECKING:
    from stackflow.definitions.jobs import WorkflowJob


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
        # kept on the proxy, so the next `ctx.jobs.<name>` finds it without this call
        handle = self.__dict__[name] = DepHandle(dep, self._caller_is_async)
        return handle

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

"""Handles of child jobs started in parallel: `.result(timeout)` or `await handle`."""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable, Generator
from typing import Any, Generic

from typing_extensions import TypeVar

Out = TypeVar("Out", default=Any)
T = TypeVar("T")


class JobHandle(Generic[Out]):
    """A child job started in parallel: `.result(timeout)` or `await handle`.

    `job.start(x)` on a typed job gives a `JobHandle[Out]`: `.result()` is the job's
    result type (a dataclass or pydantic model result is rebuilt from its JSON).
    """

    def __init__(
        self,
        future: concurrent.futures.Future[Any] | asyncio.Future[Any],
        convert: Callable[[Any], Out] | None = None,
    ) -> None:
        self._future = future
        self._convert = convert

    def result(self, timeout: float | None = None) -> Out:
        """Block until the child finishes; return its result or raise JobFailed."""
        if isinstance(self._future, asyncio.Future):
            if not self._future.done():
                raise RuntimeError("await this handle: its job runs on this thread's event loop")
            return self._converted(self._future.result())
        return self._converted(self._future.result(timeout))

    def done(self) -> bool:
        """Whether the child has finished."""
        return self._future.done()

    def with_result_type(self, convert: Callable[[Any], T] | None) -> JobHandle[T]:
        """This handle, its result converted by `convert` (None: as it is)."""
        return JobHandle(self._future, convert)

    def _converted(self, value: Any) -> Out:
        return value if self._convert is None else self._convert(value)

    def __await__(self) -> Generator[Any, None, Out]:
        if isinstance(self._future, asyncio.Future):
            value = yield from self._future.__await__()
        else:
            value = yield from asyncio.wrap_future(self._future).__await__()
        return self._converted(value)


def completed_handle(value: T) -> JobHandle[T]:
    """A handle that is already finished with `value`."""
    future: concurrent.futures.Future[Any] = concurrent.futures.Future()
    future.set_result(value)
    return JobHandle(future)


def failed_handle(error: BaseException) -> JobHandle[Any]:
    """A handle that is already finished with `error`."""
    future: concurrent.futures.Future[Any] = concurrent.futures.Future()
    future.set_exception(error)
    return JobHandle(future)

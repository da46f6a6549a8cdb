"""Handles of child jobs started in parallel: `.result(timeout)` or `await handle`."""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Generator
from typing import Any


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


def failed_handle(error: BaseException) -> JobHandle:
    """A handle that is already finished with `error`."""
    future: concurrent.futures.Future[Any] = concurrent.futures.Future()
    future.set_exception(error)
    return JobHandle(future)

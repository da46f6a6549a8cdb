"""Where execution status changes come from: the store's notifications, for the event stream.

`ExecutionEvents` is shared by every client of `GET /api/events`. It subscribes to the
engine's wake-ups (PostgreSQL LISTEN/NOTIFY, SQLite datagrams), so a status change made
by any process reaches the clients within milliseconds, with no poll per client. When
the channel says changes may have been lost (it was reconnected), it re-reads the
executions that are not final and the newest page, and reports each one's status.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool

from stackflow.engine.engine import Engine
from stackflow.records import Execution, ExecutionStatus
from stackflow.store.base import StatusChange

RESYNC_ACTIVE_LIMIT = 500
RESYNC_NEWEST_LIMIT = 50
NOT_FINAL = [status for status in ExecutionStatus if not status.is_final]


@dataclass(frozen=True)
class ExecutionEvent:
    """One status change: the `execution` event's data."""

    id: str
    workflow_name: str
    status: str

    @classmethod
    def of(cls, execution: Execution) -> ExecutionEvent:
        """The event telling that `execution` is now in its status."""
        return cls(execution.id, execution.workflow_name, str(execution.status))

    @classmethod
    def of_change(cls, change: StatusChange) -> ExecutionEvent:
        """The event of a change announced by the store."""
        return cls(change.execution_id, change.workflow_name, str(change.status))

    def to_json(self) -> dict[str, Any]:
        """`{"id", "workflowName", "status"}`."""
        return {"id": self.id, "workflowName": self.workflow_name, "status": self.status}


Batch = list[StatusChange] | None


class ExecutionEvents:
    """The feed of status changes, read by one pump for all clients (see the module doc)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._queue: asyncio.Queue[Batch] | None = None
        self._subscription: contextlib.ExitStack | None = None

    async def start(self) -> None:
        """Start receiving the store's status changes (once; later calls keep the feed)."""
        if self._subscription is not None:
            return
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Batch] = asyncio.Queue()

        def received(changes: Batch) -> None:  # on the engine's listening thread
            loop.call_soon_threadsafe(queue.put_nowait, changes)

        wakeups = await run_in_threadpool(lambda: self.engine.wakeups)
        subscription = contextlib.ExitStack()
        subscription.enter_context(wakeups.subscribe(received))
        self._queue, self._subscription = queue, subscription

    async def next_batch(self, timeout_seconds: float) -> list[ExecutionEvent]:
        """The changes since the last call, waiting at most `timeout_seconds` (maybe none)."""
        assert self._queue is not None, "start() first"
        try:
            batches = [await asyncio.wait_for(self._queue.get(), timeout_seconds)]
        except TimeoutError:
            return []
        while not self._queue.empty():
            batches.append(self._queue.get_nowait())
        if any(batch is None for batch in batches):
            return await run_in_threadpool(self._resync)
        return [ExecutionEvent.of_change(change) for change in _changes(batches)]

    def _resync(self) -> list[ExecutionEvent]:
        active = self.engine.list_executions(status=NOT_FINAL, limit=RESYNC_ACTIVE_LIMIT)
        newest = self.engine.list_executions(limit=RESYNC_NEWEST_LIMIT)
        events = {e.id: ExecutionEvent.of(e) for e in (*newest, *active)}
        return list(events.values())[::-1]

    def close(self) -> None:
        """Stop receiving changes."""
        if self._subscription is not None:
            self._subscription.close()
            self._subscription = None


def _changes(batches: list[Batch]) -> Iterator[StatusChange]:
    for batch in batches:
        yield from batch or ()

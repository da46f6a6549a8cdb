"""Where execution status changes come from: the one seam between the store and the event stream.

`ExecutionEvents` is shared by every client of `GET /api/events`. For now it polls
the store (one poll for all clients, only while a client is connected): the
executions not yet final plus the newest page, compared with what it saw last.
An execution resumed and finished again between two polls is missed; store
notifications remove that gap by replacing the body of `start` and `next_batch`.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool

from stackflow.engine.engine import Engine
from stackflow.records import Execution, ExecutionStatus

POLL_INTERVAL_SECONDS = 0.5
WATCHED_ACTIVE_LIMIT = 500
WATCHED_NEWEST_LIMIT = 50
NOT_FINAL = [status.value for status in ExecutionStatus if not status.is_final]


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

    def to_json(self) -> dict[str, Any]:
        """`{"id", "workflowName", "status"}`."""
        return {"id": self.id, "workflowName": self.workflow_name, "status": self.status}


class ExecutionEvents:
    """The feed of status changes, read by one pump for all clients (see the module doc)."""

    def __init__(
        self, engine: Engine, *, poll_interval_seconds: float = POLL_INTERVAL_SECONDS
    ) -> None:
        self.engine = engine
        self.poll_interval_seconds = poll_interval_seconds
        self._seen: dict[str, ExecutionEvent] = {}

    async def start(self) -> None:
        """Take the state that later changes are measured from."""
        self._seen = await run_in_threadpool(self._watched)

    async def next_batch(self, timeout_seconds: float) -> list[ExecutionEvent]:
        """The changes since the last call, waiting at most `timeout_seconds` (maybe none)."""
        await asyncio.sleep(min(self.poll_interval_seconds, timeout_seconds))
        return await run_in_threadpool(self._changes)

    def _watched(self) -> dict[str, ExecutionEvent]:
        active = self.engine.list_executions(status=NOT_FINAL, limit=WATCHED_ACTIVE_LIMIT)
        newest = self.engine.list_executions(limit=WATCHED_NEWEST_LIMIT)
        return {execution.id: ExecutionEvent.of(execution) for execution in (*active, *newest)}

    def _changes(self) -> list[ExecutionEvent]:
        watched = self._watched()
        now = dict(watched)
        for execution_id in self._seen.keys() - watched.keys():
            execution = self.engine.store.find_execution(execution_id)
            if execution is not None:
                now[execution_id] = ExecutionEvent.of(execution)
        changed = [event for key, event in now.items() if self._seen.get(key) != event]
        self._seen = watched
        return changed[::-1]

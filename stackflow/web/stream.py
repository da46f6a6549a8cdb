"""`GET /api/events`: Server-Sent Events fanned out from one shared feed of status changes."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.requests import Request
from starlette.responses import Response

from stackflow.web.events import ExecutionEvent, ExecutionEvents

BATCH_WAIT_SECONDS = 15.0
PING_SECONDS = 15.0
QUEUED_BATCHES_PER_CLIENT = 1000
READY_COMMENT = "ready"
RETRY_AFTER_ERROR_SECONDS = 2.0

Batch = list[ExecutionEvent] | None
"""A batch of events for one client; None ends its stream (it fell too far behind)."""
log = logging.getLogger("stackflow.web")


class EventHub:
    """One pump reads the feed while any client listens and copies each batch to every client."""

    def __init__(self, events: ExecutionEvents) -> None:
        self.events = events
        self._queues: set[asyncio.Queue[Batch]] = set()
        self._pump: asyncio.Task[None] | None = None
        self._starting = asyncio.Lock()

    @property
    def listeners(self) -> int:
        """How many clients are listening."""
        return len(self._queues)

    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator[asyncio.Queue[Batch]]:
        """A queue of batches for one client, from now until it leaves."""
        queue: asyncio.Queue[Batch] = asyncio.Queue(QUEUED_BATCHES_PER_CLIENT)
        async with self._starting:
            if self._pump is None or self._pump.done():
                await self.events.start()
                self._pump = asyncio.create_task(self._run())
            self._queues.add(queue)
        try:
            yield queue
        finally:
            self._queues.discard(queue)
            if not self._queues and self._pump is not None:
                self._pump.cancel()
                self._pump = None

    async def _run(self) -> None:
        while self._queues:
            try:
                batch = await self.events.next_batch(BATCH_WAIT_SECONDS)
            except Exception as error:  # the store is away: keep the clients, try again
                log.warning("reading execution events failed: %s", error)
                await asyncio.sleep(RETRY_AFTER_ERROR_SECONDS)
                continue
            if batch:
                self._publish(batch)

    def _publish(self, batch: list[ExecutionEvent]) -> None:
        for queue in list(self._queues):
            try:
                queue.put_nowait(batch)
            except asyncio.QueueFull:  # a client that stopped reading: end its stream
                self._queues.discard(queue)
                queue.get_nowait()
                queue.put_nowait(None)


def event_stream(hub: EventHub, request: Request) -> Response:
    """The SSE answer: a `: ready` comment once listening, then one `execution` event a change."""
    return EventSourceResponse(_events(hub), ping=PING_SECONDS)


async def _events(hub: EventHub) -> AsyncIterator[ServerSentEvent]:
    async with hub.subscribe() as queue:
        yield ServerSentEvent(comment=READY_COMMENT)
        while (batch := await queue.get()) is not None:
            for event in batch:
                yield ServerSentEvent(json.dumps(event.to_json()), event="execution")

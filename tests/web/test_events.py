"""`GET /api/events`: one `execution` event per status change, from one shared feed."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from web_helpers import TOKEN, LiveServer, Project

from stackflow import Engine
from stackflow.web import create_app
from stackflow.web.events import ExecutionEvent, ExecutionEvents

EVENT_TIMEOUT_SECONDS = 10


class Listener:
    """Reads an event stream on a thread, collecting its `execution` events."""

    def __init__(self, url: str, headers: dict[str, str] | None = None) -> None:
        self.url = url
        self.headers = headers or {}
        self.ready = threading.Event()
        self.events: list[dict[str, Any]] = []
        self.arrived = threading.Condition()
        self.content_type = ""
        self.thread = threading.Thread(target=self._read, daemon=True)

    def _read(self) -> None:
        try:
            with (
                httpx.Client(timeout=EVENT_TIMEOUT_SECONDS) as client,
                client.stream("GET", self.url, headers=self.headers) as reply,
            ):
                self.content_type = reply.headers["Content-Type"]
                self._lines(reply)
        except httpx.HTTPError:
            if not self.closed:  # the server went away while the test still listened
                raise

    def _lines(self, reply: httpx.Response) -> None:
        kind = ""
        for line in reply.iter_lines():
            if line == ": ready":
                self.ready.set()
            elif line.startswith("event: "):
                kind = line.removeprefix("event: ")
            elif line.startswith("data: ") and kind == "execution":
                with self.arrived:
                    self.events.append(json.loads(line.removeprefix("data: ")))
                    self.arrived.notify_all()
            if self.closed:
                return

    closed = False

    def wait_for(self, execution_id: str, status: str) -> dict[str, Any]:
        def found() -> dict[str, Any] | None:
            wanted = [e for e in self.events if e["id"] == execution_id and e["status"] == status]
            return wanted[0] if wanted else None

        with self.arrived:
            assert self.arrived.wait_for(found, EVENT_TIMEOUT_SECONDS), self.events
            event = found()
        assert event is not None
        return event


@contextmanager
def listening(url: str, headers: dict[str, str] | None = None) -> Iterator[Listener]:
    listener = Listener(url, headers)
    listener.thread.start()
    assert listener.ready.wait(EVENT_TIMEOUT_SECONDS)
    try:
        yield listener
    finally:
        listener.closed = True


def test_status_changes_arrive_as_events(server: str, engine: Engine, project: Project) -> None:
    with listening(f"{server}/api/events") as listener:
        assert listener.content_type.startswith("text/event-stream")
        engine.cancel(project.pending)
        event = listener.wait_for(project.pending, "CANCELED")
        assert event == {
            "id": project.pending,
            "workflowName": "order-processing",
            "status": "CANCELED",
        }
        started = engine.start("restock", {"gate": project.ids["gate"]}, invoker="admin")
        listener.wait_for(started, "PENDING")
        engine.wait(started, timeout=30)
        listener.wait_for(started, "FAILED")


def test_an_old_execution_leaving_the_newest_page_is_still_followed(
    server: str, engine: Engine, project: Project
) -> None:
    for _ in range(55):  # push the FAILED execution out of the newest page
        engine.start("restock", {"gate": project.ids["gate"]}, invoker="admin")
    with listening(f"{server}/api/events") as listener:
        engine.resume(project.failed)
        listener.wait_for(project.failed, "PENDING_RESUME")
        engine.wait(project.failed, timeout=30, run_here=True)
        listener.wait_for(project.failed, "FAILED")


class CountingEvents(ExecutionEvents):
    """The store's feed, counting how often it is read."""

    reads = 0

    async def next_batch(self, timeout_seconds: float) -> list[ExecutionEvent]:
        CountingEvents.reads += 1
        return await super().next_batch(timeout_seconds)


def test_every_client_shares_one_feed_woken_only_by_changes(
    engine: Engine, project: Project
) -> None:
    events = CountingEvents(engine)
    with LiveServer(create_app(engine, events=events)) as live:
        url = f"{live.url}/api/events"
        with listening(url) as first, listening(url) as second, listening(url) as third:
            engine.cancel(project.pending)
            for listener in (first, second, third):
                listener.wait_for(project.pending, "CANCELED")
            reads_before = CountingEvents.reads
            threading.Event().wait(1.0)
            assert CountingEvents.reads - reads_before <= 1  # no poll: one read, for all three


def test_the_stream_needs_the_token(engine: Engine, project: Project) -> None:
    with LiveServer(create_app(engine, TOKEN)) as live:
        refused = httpx.get(f"{live.url}/api/events")
        assert refused.status_code == 401
        bearer = {"Authorization": f"Bearer {TOKEN}"}
        with listening(f"{live.url}/api/events", bearer) as listener:
            engine.cancel(project.pending)
            listener.wait_for(project.pending, "CANCELED")

"""Wake-ups: status changes from every process sharing the store, delivered to waiters here.

One thread per engine listens on the store's channel (PostgreSQL LISTEN/NOTIFY, SQLite
datagrams) and sets the events of whoever waits: `Engine.wait` for one execution, the
worker for new work. Waiters keep a fallback poll, so a lost notification only delays.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from stackflow.store.base import ChangeListener, StatusChange

FALLBACK_POLL_SECONDS = 1.0
"""The longest a waiter sleeps without a notification: what a lost one costs at most."""
LISTEN_SLICE_SECONDS = 1.0

ChangeCallback = Callable[[list[StatusChange] | None], None]
"""Called with the changes received, or None when some may have been missed."""


class Wakeups:
    """Dispatches the store's status changes to the waiters of this process."""

    def __init__(self, listener: ChangeListener) -> None:
        self._listener = listener
        self._lock = threading.Lock()
        self._watchers: dict[str, set[threading.Event]] = {}
        self._callbacks: list[ChangeCallback] = []
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._listen, name="stackflow-wakeups", daemon=True)
        self._thread.start()

    @contextmanager
    def watch(self, execution_id: str) -> Iterator[threading.Event]:
        """An event set whenever `execution_id` changes status (watch, then read its state)."""
        event = threading.Event()
        with self._lock:
            self._watchers.setdefault(execution_id, set()).add(event)
        try:
            yield event
        finally:
            with self._lock:
                watchers = self._watchers.get(execution_id, set())
                watchers.discard(event)
                if not watchers:
                    self._watchers.pop(execution_id, None)

    @contextmanager
    def subscribe(self, callback: ChangeCallback) -> Iterator[None]:
        """Call `callback` (on the listening thread) with every batch of changes."""
        with self._lock:
            self._callbacks.append(callback)
        try:
            yield
        finally:
            with self._lock:
                self._callbacks.remove(callback)

    def _listen(self) -> None:
        try:
            while not self._closed.is_set():
                self._dispatch(self._listener.wait(LISTEN_SLICE_SECONDS))
        finally:
            self._listener.close()

    def _dispatch(self, changes: list[StatusChange] | None) -> None:
        if changes == []:
            return
        with self._lock:
            callbacks = list(self._callbacks)
            if changes is None:  # some may be lost: everyone looks again
                events = [event for watchers in self._watchers.values() for event in watchers]
            else:
                ids = {change.execution_id for change in changes}
                events = [event for i in ids for event in self._watchers.get(i, ())]
        for event in events:
            event.set()
        for callback in callbacks:
            try:
                callback(changes)
            except Exception:  # a broken subscriber must not stop the others' wake-ups
                continue

    def close(self) -> None:
        """Stop listening (the thread ends within a slice)."""
        self._closed.set()

"""The stores that record triggers write to when no engine runs the writing code (scripts)."""

from __future__ import annotations

import threading

from stackflow.store import open_store
from stackflow.store.base import Store

_stores: dict[str, Store] = {}
_lock = threading.Lock()


def store_for(url: str) -> Store:
    """The store at `url`, opened once per process."""
    with _lock:
        store = _stores.get(url)
        if store is None:
            store = open_store(url)
            _stores[url] = store
        return store


def close_stores() -> None:
    """Close the stores opened here (tests and process shutdown)."""
    with _lock:
        for store in _stores.values():
            store.close()
        _stores.clear()

"""What an open TailorDB transaction announces once it commits: the executions it created."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stackflow.store.base import StatusChange, Store


class Outbox:
    """Status changes made inside one open transaction, announced after its commit."""

    def __init__(self) -> None:
        self._entries: list[tuple[Store, StatusChange]] = []

    def add(self, store: Store, change: StatusChange) -> None:
        """Keep a change to announce through `store` once the transaction commits."""
        self._entries.append((store, change))

    def mark(self) -> int:
        """Where a savepoint starts: `discard_after(mark)` forgets what it added."""
        return len(self._entries)

    def discard_after(self, mark: int) -> None:
        """Forget the changes of a savepoint that rolled back."""
        del self._entries[mark:]

    def announce(self) -> None:
        """Announce every kept change (the transaction has committed)."""
        by_store: dict[int, tuple[Store, list[StatusChange]]] = {}
        for store, change in self._entries:
            by_store.setdefault(id(store), (store, []))[1].append(change)
        self._entries.clear()
        for store, changes in by_store.values():
            store.announce_committed(changes)

"""Group commit: writes made at the same time by several threads share one transaction.

Each writer still returns only once its own write has committed, so a checkpoint is as
durable as before; but while one transaction is committing, the writes that arrive are
queued and committed together by the next one (leader and followers: the first writer
to find no transaction under way leads it, and hands the lead to the first writer still
queued when it is done). A writer alone leads its own one-write transaction, so code that
writes from one thread pays nothing extra. Each write must raise LeaseLost, if at all,
before it has changed anything, so that it can fail alone inside a shared transaction.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from stackflow.errors import LeaseLost

T = TypeVar("T")
Work = Callable[[Any], T]


class Pending(Generic[T]):
    """One write waiting for its transaction."""

    def __init__(self, work: Work[T], one_statement: bool) -> None:
        self.work = work
        self.one_statement = one_statement
        self.leads = False
        self.done = False
        self.value: T | None = None
        self.error: BaseException | None = None
        self.turn = threading.Event()

    def settle(self, value: T | None = None, error: BaseException | None = None) -> None:
        """Record the outcome and wake the writer."""
        self.value, self.error, self.done = value, error, True
        self.turn.set()

    def outcome(self) -> T:
        """The write's result, or its error raised."""
        if self.error is not None:
            raise self.error
        return self.value  # type: ignore[return-value]


BatchRunner = Callable[[list[Pending[Any]]], None]
"""Runs a batch of writes in one transaction and settles every one of them."""


class GroupCommit:
    """Batches concurrent writes into shared transactions (see the module doc)."""

    def __init__(self, run_batch: BatchRunner) -> None:
        self._run_batch = run_batch
        self._lock = threading.Lock()
        self._queue: list[Pending[Any]] = []
        self._leading = False

    def write(self, work: Work[T], *, one_statement: bool = False) -> T:
        """Run `work(connection)` in a transaction (maybe shared); return once committed.

        `one_statement`: the work changes data with one statement (alone, it needs no
        transaction of its own).
        """
        pending = Pending(work, one_statement)
        with self._lock:
            self._queue.append(pending)
            pending.leads = not self._leading
            self._leading = True
        if not pending.leads:
            pending.turn.wait()
        if not pending.done:  # it leads a transaction (its own write is in it)
            self._lead()
        return pending.outcome()

    def _lead(self) -> None:
        with self._lock:
            batch, self._queue = self._queue, []
        try:
            self._run_batch(batch)
        finally:
            for pending in batch:
                if not pending.done:
                    pending.settle(error=RuntimeError("the write was not run"))
            with self._lock:
                if self._queue:
                    self._queue[0].leads = True
                    self._queue[0].turn.set()
                else:
                    self._leading = False


Outcome = tuple[Pending[Any], Any, BaseException | None]


def run_each_caught(batch: list[Pending[Any]], connection: Any) -> list[Outcome]:
    """Run every write of `batch` on `connection` (inside the caller's transaction).

    A lost lease fails its own write only; any other error aborts the batch.
    """
    outcomes: list[Outcome] = []
    for pending in batch:
        try:
            outcomes.append((pending, pending.work(connection), None))
        except LeaseLost as lost:
            outcomes.append((pending, None, lost))
    return outcomes

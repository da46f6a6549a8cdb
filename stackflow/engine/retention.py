"""Retention: deleting final executions older than a cutoff, by hand or by workers.

Each batch is one transaction deleting a few executions with their job
executions and waits, so a process killed mid-prune leaves nothing half-deleted.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from stackflow.clock import now_ms
from stackflow.config import DEFAULT_RETENTION_STATUSES, RetentionSettings
from stackflow.engine.bulk import Duration, duration_ms, statuses_for
from stackflow.jsonvalue import format_datetime
from stackflow.records import ExecutionStatus
from stackflow.store.base import ExecutionFilter, Store
from stackflow.store.rows import from_ms

PRUNE_BATCH_SIZE = 100
"""Executions deleted per transaction by `workflow prune`."""
BACKGROUND_BATCH_SIZE = 20
"""Executions deleted per transaction by a worker: short, so claims hardly wait."""
BACKGROUND_PAUSE_SECONDS = 0.05
"""Between two background batches: the store's lock is free for claims in between."""
PRUNE_EVERY_SECONDS = 300.0
"""How often a worker prunes (it also prunes when it starts)."""
FINAL = tuple(status for status in ExecutionStatus if status.is_final)

LogLine = Callable[[str], None]


@dataclass(frozen=True)
class PruneReport:
    """What a prune deleted (or, for a dry run, would delete)."""

    count: int
    job_executions: int = 0
    waits: int = 0
    pages_freed: int | None = None
    """SQLite: pages the store file's free list gained (VACUUM returns them); else None."""
    page_bytes: int = 0
    """SQLite: the size of a page."""


def prune_selection(
    older_than: Duration, statuses: str | Sequence[str] | None = None
) -> ExecutionFilter:
    """Final executions (SUCCESS and CANCELED unless `statuses` says) that finished more
    than `older_than` ago."""
    chosen = statuses_for("prune", statuses, FINAL) if statuses else DEFAULT_RETENTION_STATUSES
    cutoff = now_ms() - duration_ms(older_than, "older_than")
    return ExecutionFilter(statuses=tuple(chosen), finished_before_ms=cutoff)


def prune(
    store: Store,
    selection: ExecutionFilter,
    *,
    batch_size: int = PRUNE_BATCH_SIZE,
    pause: threading.Event | None = None,
) -> PruneReport:
    """Delete the selected executions in batches of `batch_size`.

    With `pause`, wait BACKGROUND_PAUSE_SECONDS between batches and stop once it is set.
    """
    before = store.free_pages()
    count = jobs = waits = 0
    cursor = None
    while True:
        batch = store.prune_batch(selection, cursor, batch_size)
        count, jobs, waits = (
            count + batch.executions,
            jobs + batch.job_executions,
            waits + batch.waits,
        )
        cursor = batch.cursor
        if cursor is None or (pause is not None and pause.wait(BACKGROUND_PAUSE_SECONDS)):
            break
    after = store.free_pages()
    if before is None or after is None:
        return PruneReport(count, jobs, waits)
    return PruneReport(count, jobs, waits, max(after[0] - before[0], 0), after[1])


class BackgroundPrune:
    """A worker's retention: prunes on a thread and a store connection of its own when
    started and every PRUNE_EVERY_SECONDS, in small batches, never in the way of the
    worker's claims."""

    def __init__(self, connect: Callable[[], Store], settings: RetentionSettings, log: LogLine):
        self._connect = connect
        self._store: Store | None = None
        self.settings = settings
        self.log = log
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="stackflow-retention", daemon=True)

    def start(self) -> None:
        """Prune now, then every PRUNE_EVERY_SECONDS until stopped."""
        self._thread.start()

    def stop(self) -> None:
        """Stop after the batch in progress."""
        self._stopped.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        try:
            while not self._stopped.is_set():
                try:
                    self.prune_once()
                except Exception as error:  # a busy or unreachable store: the next round
                    self.log(f"retention: prune failed, retrying later: {error}")
                self._stopped.wait(PRUNE_EVERY_SECONDS)
        finally:
            self.close()

    def prune_once(self) -> PruneReport:
        """One round: delete what is older than the cutoff now, batch by batch."""
        if self._store is None:
            self._store = self._connect()
        older_than = self.settings.older_than_seconds or 0.0
        selection = prune_selection(older_than, [str(s) for s in self.settings.statuses])
        report = prune(
            self._store, selection, batch_size=BACKGROUND_BATCH_SIZE, pause=self._stopped
        )
        cutoff = from_ms(selection.finished_before_ms)
        if report.count and cutoff is not None:
            before = format_datetime(cutoff)
            self.log(f"retention: deleted {report.count} execution(s) finished before {before}")
        return report

    def close(self) -> None:
        """Close the store connection of the prunes."""
        if self._store is not None:
            self._store.close()
            self._store = None

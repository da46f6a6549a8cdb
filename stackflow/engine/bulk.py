"""Bulk resume and cancel: every matching execution, changed in short batches."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from stackflow.clock import now_ms
from stackflow.durations import parse_duration
from stackflow.errors import InvalidArgument
from stackflow.records import ExecutionStatus, parse_statuses
from stackflow.store.base import Batch, Cursor, ExecutionFilter

BATCH_SIZE = 100
"""Executions changed per transaction: a large set never holds the store's lock for long."""
DURATION_UNITS = ("s", "m", "h", "d")

Duration = str | float | int


@dataclass(frozen=True)
class BulkAction:
    """A bulk operation and the statuses it can change."""

    verb: str
    statuses: tuple[ExecutionStatus, ...]


RESUME = BulkAction("resume", (ExecutionStatus.FAILED, ExecutionStatus.PENDING_RETRY))
CANCEL = BulkAction(
    "cancel",
    (
        ExecutionStatus.PENDING,
        ExecutionStatus.PENDING_RESUME,
        ExecutionStatus.PENDING_RETRY,
        ExecutionStatus.WAITING,
        ExecutionStatus.RUNNING,
    ),
)


def duration_ms(value: Duration, name: str) -> int:
    """A duration (`"1h"`, `"30d"` or seconds) in milliseconds; InvalidArgument otherwise."""
    try:
        seconds = parse_duration(value, name=name, units=DURATION_UNITS)
    except ValueError as error:
        raise InvalidArgument(str(error)) from None
    return int(seconds * 1000)


def statuses_for(
    verb: str, status: str | Sequence[str] | None, allowed: Sequence[ExecutionStatus]
) -> tuple[ExecutionStatus, ...]:
    """The statuses named (all `allowed` when none is); InvalidArgument for any other."""
    statuses = parse_statuses(status)
    for named in statuses:
        if named not in allowed:
            listed = ", ".join(allowed)
            raise InvalidArgument(f"{verb} acts only on {listed} executions, not on {named}.")
    return tuple(statuses) or tuple(allowed)


def selection(
    action: BulkAction,
    workflow_name: str | None,
    status: str | Sequence[str] | None,
    since: Duration | None,
) -> ExecutionFilter:
    """The executions `action` changes: those matching the filters that exist now."""
    now = now_ms()
    return ExecutionFilter(
        workflow_name=workflow_name,
        statuses=statuses_for(action.verb, status, action.statuses),
        created_from_ms=None if since is None else now - duration_ms(since, "since"),
        created_before_ms=now + 1,
    )


def in_batches(step: Callable[[Cursor | None], Batch]) -> int:
    """Run `step` from the start until no execution is left; how many it changed."""
    total, cursor = 0, None
    while True:
        batch = step(cursor)
        total += batch.changed
        if batch.cursor is None:
            return total
        cursor = batch.cursor

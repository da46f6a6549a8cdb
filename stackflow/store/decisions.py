"""Decisions every backend makes the same way: caps on claims, resolve and cancel rules."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from stackflow.errors import NotCancelable, WaitPointError
from stackflow.records import ExecutionStatus
from stackflow.store.base import ClaimLimits

CANCEL_AT_ONCE = frozenset(
    {
        ExecutionStatus.PENDING,
        ExecutionStatus.PENDING_RESUME,
        ExecutionStatus.PENDING_RETRY,
        ExecutionStatus.WAITING,
    }
)


def within_limits(
    candidates: Sequence[Sequence[Any]],
    running: dict[str, int],
    limits: ClaimLimits,
    limit: int,
) -> list[str]:
    """Ids of (id, workflow name) candidates, in order, that fit under the caps."""
    chosen: list[str] = []
    total = sum(running.values())
    for execution_id, workflow_name in candidates:
        if len(chosen) >= limit:
            break
        if limits.max_running is not None and total >= limits.max_running:
            break
        cap = limits.per_workflow.get(workflow_name)
        if cap is not None and running.get(workflow_name, 0) >= cap:
            continue
        chosen.append(execution_id)
        running[workflow_name] = running.get(workflow_name, 0) + 1
        total += 1
    return chosen


def check_resolvable(
    execution_id: str,
    key: str,
    status: str,
    resolved_at: Sequence[int | None],
    waiting_at: Sequence[str] = (),
) -> None:
    """Raise WaitPointError unless the execution waits, unresolved, at wait point `key`.

    `waiting_at`: the keys of its wait points still unresolved, named in the error.
    """
    pending = [at for at in resolved_at if at is None]
    if resolved_at and not pending:
        raise WaitPointError(
            f"Wait point '{key}' of execution '{execution_id}' was already resolved."
        )
    if status != ExecutionStatus.WAITING or not pending:
        where = f"; it waits at {', '.join(repr(k) for k in waiting_at)}" if waiting_at else ""
        raise WaitPointError(
            f"Execution '{execution_id}' is not waiting at wait point '{key}'{where}."
        )


def cancel_outcome(
    execution_id: str, status: str, lease_expires_at: int | None, now_ms: int
) -> ExecutionStatus:
    """CANCELED when it can stop at once, RUNNING when it stops at its next job boundary."""
    if status in CANCEL_AT_ONCE:
        return ExecutionStatus.CANCELED
    if status == ExecutionStatus.RUNNING:
        expired = lease_expires_at is not None and lease_expires_at < now_ms
        return ExecutionStatus.CANCELED if expired else ExecutionStatus.RUNNING
    raise NotCancelable(f"Execution '{execution_id}' cannot be canceled: it is {status}.")

"""Status changes reach every store on the same database (both backends)."""

from __future__ import annotations

import time

from store_helpers import NOW, claim_at, job_row, new_execution

from stackflow.records import ExecutionStatus
from stackflow.store import open_store
from stackflow.store.base import ChangeListener, StatusChange


def _receive(listener: ChangeListener, count: int, seconds: float = 5.0) -> list[StatusChange]:
    received: list[StatusChange] = []
    deadline = time.monotonic() + seconds
    while len(received) < count and time.monotonic() < deadline:
        received.extend(listener.wait(0.2) or [])
    return received


def test_status_changes_reach_another_store(store_url, store):
    listener = store.subscribe()
    other = open_store(store_url)
    try:
        listener.wait(0.05)
        execution_id = new_execution(other)
        lease = claim_at(other, execution_id)
        main = job_row(lease, 1, "")
        other.finish_execution(lease, main, main_job_recorded=False, status="SUCCESS", now_ms=NOW)
        received = _receive(listener, 3)
    finally:
        listener.close()
        other.close()
    assert [(c.execution_id, c.workflow_name, c.status) for c in received] == [
        (execution_id, "flow", ExecutionStatus.PENDING),
        (execution_id, "flow", ExecutionStatus.RUNNING),
        (execution_id, "flow", ExecutionStatus.SUCCESS),
    ]


def test_a_quiet_store_times_out_quickly(store):
    listener = store.subscribe()
    try:
        started = time.monotonic()
        assert listener.wait(0.2) == []
        assert 0.15 < time.monotonic() - started < 2
    finally:
        listener.close()


def test_a_change_is_encoded_and_decoded():
    change = StatusChange("e1", "order processing", ExecutionStatus.WAITING)
    assert StatusChange.decode(change.encode()) == change
    assert StatusChange.decode("NOT-A-STATUS e1 flow") is None
    assert StatusChange.decode("garbage") is None

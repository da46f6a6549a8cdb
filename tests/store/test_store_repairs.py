"""The Store contract, repairs: restart, bulk resume and cancel, prune (both backends)."""

from __future__ import annotations

import json

import pytest
from store_helpers import NOW, claim_at, job_row, new_execution

from stackflow.clock import job_execution_id, new_id
from stackflow.errors import ExecutionNotFound, NotRestartable, StoreError
from stackflow.records import ExecutionStatus
from stackflow.store.base import (
    PATCH,
    WAIT_POINT,
    ExecutionFilter,
    NewExecution,
    Store,
    WaitRow,
)

FAILED_ERROR = json.dumps({"type": "RuntimeError", "message": "boom"})


def _finished(store: Store, status: str, *, at: int = NOW, workflow: str = "flow") -> str:
    """An execution created at `at` that ended in `status` a second later."""
    execution_id = new_execution(store, workflow, at=at)
    lease = claim_at(store, execution_id, at=at)
    store.record_job_start(lease, job_row(lease, 1, "", "RUNNING"))
    store.record_job_result(lease, job_row(lease, 2, "000000"), started_recorded=False)
    main = job_row(lease, 1, "", "SUCCESS" if status == "SUCCESS" else "FAILED")
    main.error_json = None if status == "SUCCESS" else FAILED_ERROR
    store.finish_execution(
        lease, main, main_job_recorded=True, status=ExecutionStatus(status), now_ms=at + 1000
    )
    return execution_id


def _waiting(store: Store, *, at: int = NOW) -> str:
    lease = claim_at(store, new_execution(store, at=at), at=at)
    wait = WaitRow(lease.execution_id, "000000", WAIT_POINT, "approval", "{}", None, None, at)
    store.record_wait(lease, wait)
    store.park_execution(lease, None, at + 1)
    return lease.execution_id


def _status(store: Store, execution_id: str) -> str | None:
    found = store.find_execution(execution_id)
    return None if found is None else str(found.status)


def _restart_of(source_id: str) -> NewExecution:
    return NewExecution(new_id(), "flow", '{"again":true}', None, None, NOW + 5000)


# restart ----------------------------------------------------------------------------------


def test_a_restart_is_created_with_its_copies_in_one_go(store: Store) -> None:
    source = _finished(store, "FAILED")
    new = _restart_of(source)
    [copy] = [row for row in store.load_job_rows(source) if row.call_path]
    copy.execution_id, copy.seq = new.id, 1
    assert copy.id == job_execution_id(new.id, 1)  # derived from (execution_id, seq)
    marker = WaitRow(new.id, "000000@v2", PATCH, "v2", None, None, None, NOW)

    store.restart_execution(new, source, [copy], [marker])

    restarted = store.find_execution(new.id, with_jobs=True)
    assert restarted is not None and restarted.status == "PENDING"
    assert restarted.restarted_from == source and restarted.arg == {"again": True}
    assert [(j.call_path, j.status, j.id) for j in restarted.job_executions] == [
        ("000000", "SUCCESS", copy.id)
    ]
    assert [(w.call_path, w.kind) for w in store.load_waits(new.id)] == [("000000@v2", PATCH)]
    lease = claim_at(store, new.id, at=NOW + 6000)
    assert not lease.first_run  # its first claim reads the history it carries
    assert store.find_execution(source) is not None  # the old one is left as it was


def test_a_restart_is_refused_unless_the_source_is_final(store: Store) -> None:
    waiting = _waiting(store)
    new = _restart_of(waiting)
    with pytest.raises(NotRestartable, match=f"Execution '{waiting}' is WAITING"):
        store.restart_execution(new, waiting, [], [])
    unknown = new_id()
    with pytest.raises(ExecutionNotFound, match=f"Execution '{unknown}' not found"):
        store.restart_execution(new, unknown, [], [])
    assert store.find_execution(new.id) is None


def test_a_restart_that_fails_half_way_writes_nothing(store: Store) -> None:
    source = _finished(store, "SUCCESS")
    new = _restart_of(source)
    rows = [row for row in store.load_job_rows(source) if row.call_path]
    copies = [rows[0], rows[0]]  # the same key twice: the second insert fails
    for copy in copies:
        copy.execution_id, copy.seq = new.id, 1
    with pytest.raises(StoreError):
        store.restart_execution(new, source, copies, [])
    assert store.find_execution(new.id) is None
    assert store.load_job_rows(new.id) == []


# bulk resume and cancel -------------------------------------------------------------------


def test_resume_batches_walk_the_matching_executions_oldest_first(store: Store) -> None:
    failed = [_finished(store, "FAILED", at=NOW + i) for i in range(5)]
    succeeded = _finished(store, "SUCCESS", at=NOW + 10)
    other = _finished(store, "FAILED", at=NOW + 11, workflow="other")
    selection = ExecutionFilter(
        workflow_name="flow", statuses=(ExecutionStatus.FAILED, ExecutionStatus.SUCCESS)
    )
    assert store.count_executions(selection) == 6

    first = store.resume_batch(selection, None, 2, NOW + 100)
    assert first.changed == 2 and first.cursor is not None
    assert [_status(store, e) for e in failed] == ["PENDING_RESUME"] * 2 + ["FAILED"] * 3
    second = store.resume_batch(selection, first.cursor, 2, NOW + 100)
    third = store.resume_batch(selection, second.cursor, 2, NOW + 100)
    assert (second.changed, third.changed) == (2, 1)  # the SUCCESS one matched, unchanged
    assert store.resume_batch(selection, third.cursor, 2, NOW + 100).cursor is None

    assert {_status(store, e) for e in failed} == {"PENDING_RESUME"}
    assert _status(store, succeeded) == "SUCCESS" and _status(store, other) == "FAILED"
    resumed = store.find_execution(failed[0])
    assert resumed is not None and resumed.finished_at is None


def test_filters_by_creation_time(store: Store) -> None:
    old = _finished(store, "FAILED", at=NOW)
    recent = _finished(store, "FAILED", at=NOW + 60_000)
    new_after_start = _finished(store, "FAILED", at=NOW + 120_000)
    selection = ExecutionFilter(created_from_ms=NOW + 30_000, created_before_ms=NOW + 90_000)
    assert store.count_executions(selection) == 1
    assert store.resume_batch(selection, None, 10, NOW + 200_000).changed == 1
    assert [_status(store, e) for e in (old, recent, new_after_start)] == [
        "FAILED",
        "PENDING_RESUME",
        "FAILED",
    ]


def test_cancel_batches_cancel_at_once_or_at_the_next_job_boundary(store: Store) -> None:
    pending = new_execution(store)
    waiting = _waiting(store, at=NOW + 1)
    running = claim_at(store, new_execution(store, at=NOW + 2), at=NOW + 2).execution_id
    done = _finished(store, "SUCCESS", at=NOW + 3)
    selection = ExecutionFilter(statuses=tuple(ExecutionStatus))

    batch = store.cancel_batch(selection, None, 10, NOW + 10)

    assert batch.changed == 3
    assert [_status(store, e) for e in (pending, waiting, running, done)] == [
        "CANCELED",
        "CANCELED",
        "RUNNING",
        "SUCCESS",
    ]
    flagged = store.find_execution(running)
    assert flagged is not None and flagged.cancel_requested
    assert store.cancel_batch(selection, None, 10, NOW + 20).changed == 0  # nothing new


# prune ------------------------------------------------------------------------------------


def test_prune_batches_delete_executions_with_everything_recorded_for_them(store: Store) -> None:
    old = [_finished(store, "SUCCESS", at=NOW + i) for i in range(3)]
    old_failed = _finished(store, "FAILED", at=NOW + 5)
    recent = _finished(store, "SUCCESS", at=NOW + 500_000)
    waiting = _waiting(store, at=NOW + 6)
    selection = ExecutionFilter(
        statuses=(ExecutionStatus.SUCCESS, ExecutionStatus.CANCELED),
        finished_before_ms=NOW + 100_000,
    )
    assert store.count_executions(selection) == 3

    first = store.prune_batch(selection, None, 2)
    assert (first.executions, first.job_executions, first.waits) == (2, 4, 0)
    second = store.prune_batch(selection, first.cursor, 2)
    assert second.executions == 1 and second.cursor is not None
    assert store.prune_batch(selection, second.cursor, 2).cursor is None

    for execution_id in old:
        assert store.find_execution(execution_id) is None
        assert store.load_job_rows(execution_id) == []
    for kept in (old_failed, recent, waiting):
        assert store.find_execution(kept) is not None
    assert len(store.load_waits(waiting)) == 1


def test_prune_deletes_the_waits_of_an_execution(store: Store) -> None:
    execution_id = _waiting(store)
    store.cancel_batch(ExecutionFilter(), None, 10, NOW + 10)
    selection = ExecutionFilter(
        statuses=(ExecutionStatus.CANCELED,), finished_before_ms=NOW + 100_000
    )
    batch = store.prune_batch(selection, None, 10)
    assert (batch.executions, batch.waits) == (1, 1)
    assert store.load_waits(execution_id) == []


def test_free_pages_are_known_on_sqlite_only(store: Store, store_url: str) -> None:
    free = store.free_pages()
    if store_url.startswith("sqlite:"):
        assert free is not None and free[0] >= 0 and free[1] >= 512
    else:
        assert free is None


# reading ----------------------------------------------------------------------------------


def test_histories_of_many_executions_are_read_at_once(store: Store) -> None:
    finished = _finished(store, "SUCCESS")
    waiting = _waiting(store, at=NOW + 1)
    missing = new_id()
    histories = store.load_histories([finished, waiting, missing])
    assert histories[finished] == (store.load_job_rows(finished), [])
    assert histories[waiting] == (store.load_job_rows(waiting), store.load_waits(waiting))
    assert [row.seq for row in histories[finished][0]] == [1, 2]
    assert histories[missing] == ([], [])

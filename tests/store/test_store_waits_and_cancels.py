"""The Store contract, continued: waits, sleeps, cancels, schedules and upkeep (both backends)."""

from __future__ import annotations

import time

import pytest
from store_helpers import NOW, claim_at, job_row, new_execution

from stackflow.clock import now_ms
from stackflow.errors import ExecutionNotFound, LeaseLost, NotCancelable, WaitPointError
from stackflow.store.base import SLEEP, WAIT_POINT, WaitRow


def _wait_point(lease, key="approval", path="000000"):
    return WaitRow(lease.execution_id, path, WAIT_POINT, key, '{"amount":5}', None, None, NOW)


def test_waits_are_recorded_once_and_fenced(store):
    lease = claim_at(store, new_execution(store))
    store.record_wait(lease, _wait_point(lease))
    store.record_wait(lease, _wait_point(lease))  # a retried write is recognised
    [wait] = store.load_waits(lease.execution_id)
    assert (wait.kind, wait.key, wait.payload_json) == (WAIT_POINT, "approval", '{"amount":5}')
    assert wait.resolved_at_ms is None and wait.result_json is None
    store.release_execution(lease, NOW + 1)
    claim_at(store, lease.execution_id, "w2", NOW + 2)
    with pytest.raises(LeaseLost):
        store.record_wait(lease, _wait_point(lease, path="000001"))


def test_a_parked_execution_is_resolved_once(store):
    lease = claim_at(store, new_execution(store))
    store.record_wait(lease, _wait_point(lease))
    with pytest.raises(WaitPointError, match="not waiting"):
        store.resolve_wait(lease.execution_id, "approval", "true", NOW + 1)  # still RUNNING
    store.park_execution(lease, None, NOW + 1)
    parked = store.find_execution(lease.execution_id)
    assert parked is not None and parked.status == "WAITING" and parked.is_settled
    assert store.claim_execution(lease.execution_id, "w2", 1000, now_ms()) is None
    with pytest.raises(WaitPointError, match="not waiting at wait point 'other'"):
        store.resolve_wait(lease.execution_id, "other", "true", NOW + 2)
    with pytest.raises(ExecutionNotFound):
        store.resolve_wait("missing", "approval", "true", NOW + 2)
    store.resolve_wait(lease.execution_id, "approval", '{"ok":true}', NOW + 2)
    [wait] = store.load_waits(lease.execution_id)
    assert wait.result_json == '{"ok":true}' and wait.resolved_at_ms == NOW + 2
    resumed = store.find_execution(lease.execution_id)
    assert resumed is not None and resumed.status == "PENDING_RESUME"
    with pytest.raises(WaitPointError, match="already resolved"):
        store.resolve_wait(lease.execution_id, "approval", "false", NOW + 3)
    with pytest.raises(LeaseLost):
        store.park_execution(lease, None, NOW + 4)  # no longer RUNNING: refused
    assert claim_at(store, lease.execution_id, "w2", NOW + 4).fence > lease.fence


def test_a_sleeping_execution_falls_due(store):
    execution_id = new_execution(store)
    lease = store.claim_execution(execution_id, "w1", 60_000, now_ms())
    assert lease is not None
    wake = now_ms() + 300
    store.record_wait(lease, WaitRow(execution_id, "000000", SLEEP, None, None, None, wake, NOW))
    assert store.next_wake_ms(["flow"]) is None
    store.park_execution(lease, wake, now_ms())
    sleeping = store.find_execution(execution_id)
    assert sleeping is not None and sleeping.status == "WAITING" and not sleeping.is_settled
    assert store.next_wake_ms(["flow"]) == wake
    assert store.next_wake_ms(["other"]) is None
    assert store.claim_runnable("w2", 60_000, now_ms(), 5, ["flow"]) == []
    time.sleep(0.4)
    [woken] = store.claim_runnable("w2", 60_000, now_ms(), 5, ["flow"])
    assert woken.execution_id == execution_id and woken.fence > lease.fence


def test_cancel_at_once_later_or_never(store):
    pending = new_execution(store)
    assert store.request_cancel(pending, NOW + 1) == "CANCELED"
    canceled = store.find_execution(pending)
    assert canceled is not None and canceled.status == "CANCELED" and canceled.finished_at
    with pytest.raises(NotCancelable, match="it is CANCELED"):
        store.request_cancel(pending, NOW + 2)
    with pytest.raises(ExecutionNotFound):
        store.request_cancel("missing", NOW + 2)
    running = new_execution(store)
    lease = store.claim_execution(running, "w1", 60_000, now_ms())
    assert lease is not None
    assert store.cancel_requested([running, pending]) == set()
    assert store.request_cancel(running, NOW + 3) == "RUNNING"
    assert store.cancel_requested([running, pending]) == {running}
    flagged = store.find_execution(running)
    assert flagged is not None and flagged.status == "RUNNING" and flagged.cancel_requested
    again = store.claim_execution(running, "w2", 60_000, now_ms())
    assert again is None  # still leased
    store.release_execution(lease, NOW + 4)
    reclaimed = claim_at(store, running, "w2", NOW + 5)
    assert reclaimed.cancel_requested


def test_finished_jobs_survive_an_abandoned_sibling(store):
    lease = claim_at(store, new_execution(store))
    store.record_job_result(lease, job_row(lease, 1, "000000"), started_recorded=False)
    store.record_job_start(lease, job_row(lease, 2, "000001", "RUNNING"))
    assert store.abandon_unfinished_jobs(lease, '{"type":"lost"}', NOW + 1) == 1
    assert [str(r.status) for r in store.load_job_rows(lease.execution_id)] == [
        "SUCCESS",
        "FAILED",
    ]


def test_schedules_remember_when_first_seen_and_their_last_error(store):
    assert store.schedule_states() == {}
    assert store.schedule_first_seen("nightly", NOW) == NOW
    assert store.schedule_first_seen("nightly", NOW + 50) == NOW
    store.record_schedule_error("nightly", "ValueError: no", NOW + 60)
    store.record_schedule_error("hourly", "KeyError: 'x'", NOW + 70)
    states = store.schedule_states()
    nightly = states["nightly"]
    assert (nightly.first_seen_ms, nightly.last_error) == (NOW, "ValueError: no")
    assert states["nightly"].last_error_at_ms == NOW + 60
    assert states["hourly"].first_seen_ms == NOW + 70


def test_upkeep_runs_at_any_time(store):
    store.maintain()
    lease = claim_at(store, new_execution(store))
    store.record_job_result(lease, job_row(lease, 1, ""), started_recorded=False)
    store.maintain()
    assert len(store.load_job_rows(lease.execution_id)) == 1

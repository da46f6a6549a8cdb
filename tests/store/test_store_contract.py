"""The Store contract, written once and run on every backend (store_url is parametrized)."""

from __future__ import annotations

import json
import threading
import time

import pytest
from store_helpers import LEASE_MS, NOW, claim_at, job_row, new_execution

from stackflow.clock import now_ms
from stackflow.errors import ExecutionNotFound, LeaseLost, NotResumable
from stackflow.store import open_store
from stackflow.store.base import WorkflowEntry


def test_reopening_a_store_keeps_its_data(store_url):
    first = open_store(store_url)
    execution_id = new_execution(first)
    first.close()
    again = open_store(store_url)
    try:
        found = again.find_execution(execution_id)
        assert found is not None and found.status == "PENDING"
    finally:
        again.close()


def test_create_find_and_list(store):
    first = new_execution(store, "a", at=NOW)
    second = new_execution(store, "b", at=NOW + 5)
    found = store.find_execution(first)
    assert found is not None
    assert (found.workflow_name, found.status, found.arg) == ("a", "PENDING", {"at": NOW})
    assert found.started_at is None and found.finished_at is None
    assert store.find_execution("missing") is None
    assert [e.id for e in store.list_executions()] == [second, first]
    assert [e.id for e in store.list_executions(workflow_name="a")] == [first]
    assert [e.id for e in store.list_executions(statuses=["RUNNING"])] == []
    assert [e.id for e in store.list_executions(limit=1)] == [second]


def test_list_pages_with_before(store):
    first = new_execution(store, "a", at=NOW)
    second = new_execution(store, "b", at=NOW + 5)
    same_time = [new_execution(store, "a", at=NOW + 9) for _ in range(3)]
    newest = [*reversed(same_time), second, first]
    assert [e.id for e in store.list_executions()] == newest
    for index, execution_id in enumerate(newest):
        older = store.list_executions(before=execution_id)
        assert [e.id for e in older] == newest[index + 1 :]
    page = store.list_executions(before=same_time[1], limit=2)
    assert [e.id for e in page] == [same_time[0], second]
    assert [e.id for e in store.list_executions(workflow_name="a", before=second)] == [first]
    assert store.list_executions(before="missing") == []


def _ended(store, workflow: str, status: str, at: int) -> str:
    """An execution of `workflow`, run and ended in `status` (SUCCESS, FAILED or CANCELED)."""
    lease = claim_at(store, new_execution(store, workflow, at=at), at=at)
    main = job_row(lease, 1, "", status, error_json='{"type":"E","message":"m"}')
    store.finish_execution(lease, main, main_job_recorded=False, status=status, now_ms=at + 1)
    return lease.execution_id


def test_lists_by_status_newest_first_with_the_other_filters(store):
    """Each status is read on its own (from its index) and the lists are merged."""
    ids = {
        "failed": _ended(store, "a", "FAILED", NOW),
        "done": _ended(store, "a", "SUCCESS", NOW + 1),
        "canceled": _ended(store, "b", "CANCELED", NOW + 2),
        "running": claim_at(store, new_execution(store, "a", at=NOW + 3)).execution_id,
        "failed_b": _ended(store, "b", "FAILED", NOW + 4),
        "pending": new_execution(store, "a", at=NOW + 5),
        "failed_a": _ended(store, "a", "FAILED", NOW + 6),
    }
    store.mark_resumable(ids["failed"], NOW + 7)  # FAILED -> PENDING_RESUME

    def listed(**filters: object) -> list[str]:
        names = {v: k for k, v in ids.items()}
        return [names[e.id] for e in store.list_executions(**filters)]

    assert listed(statuses=["FAILED"]) == ["failed_a", "failed_b"]
    assert listed(statuses=["FAILED", "CANCELED", "FAILED"]) == ["failed_a", "failed_b", "canceled"]
    assert listed(statuses=["PENDING", "PENDING_RESUME"]) == ["pending", "failed"]
    assert listed(statuses=["PENDING_RESUME"]) == ["failed"]
    assert listed(statuses=["RUNNING", "SUCCESS"]) == ["running", "done"]
    assert listed(statuses=["FAILED", "CANCELED"], workflow_name="b") == ["failed_b", "canceled"]
    assert listed(statuses=["FAILED", "CANCELED"], limit=2) == ["failed_a", "failed_b"]
    assert listed(statuses=["FAILED", "CANCELED"], before=ids["failed_a"], limit=1) == ["failed_b"]
    assert listed(statuses=["WAITING", "PENDING_RETRY"]) == []


def test_idempotency_key(store):
    first = new_execution(store, key="k")
    assert new_execution(store, key="k") == first
    assert len(store.list_executions()) == 1


# Leases are timed by the store's clock (the server's, on PostgreSQL): these tests use
# short real leases rather than made-up times.
SHORT_LEASE_MS = 400


def test_a_claim_is_exclusive_until_the_lease_expires(store):
    execution_id = new_execution(store)
    lease = store.claim_execution(execution_id, "w1", SHORT_LEASE_MS, now_ms())
    assert lease is not None
    assert lease.workflow_name == "flow" and json.loads(lease.arg_json) == {"at": NOW}
    assert store.claim_execution(execution_id, "w2", SHORT_LEASE_MS, now_ms()) is None
    assert store.claim_runnable("w2", SHORT_LEASE_MS, now_ms(), 10, ["flow"]) == []
    running = store.find_execution(execution_id)
    assert running is not None and running.status == "RUNNING" and running.started_at is not None
    time.sleep(SHORT_LEASE_MS / 1000 + 0.1)
    taken = store.claim_execution(execution_id, "w2", LEASE_MS, now_ms())
    assert taken is not None and taken.fence > lease.fence
    with pytest.raises(LeaseLost):
        store.record_job_result(lease, job_row(lease, 1, "000000"), started_recorded=False)
    store.record_job_result(taken, job_row(taken, 1, "000000"), started_recorded=False)


def test_renewed_leases_are_not_taken(store):
    execution_id = new_execution(store)
    lease = store.claim_execution(execution_id, "w1", SHORT_LEASE_MS, now_ms())
    assert lease is not None
    time.sleep(SHORT_LEASE_MS / 2000)
    renewed = store.renew_leases("w1", [execution_id], SHORT_LEASE_MS, now_ms())
    assert renewed == {(execution_id, lease.fence)}
    time.sleep(SHORT_LEASE_MS / 1000 * 0.75)  # past the first lease, within the renewed one
    assert store.claim_execution(execution_id, "w2", SHORT_LEASE_MS, now_ms()) is None
    assert store.renew_leases("w2", [execution_id], 60_000, now_ms()) == set()  # not its owner
    time.sleep(SHORT_LEASE_MS / 1000 + 0.1)
    assert store.claim_execution(execution_id, "w2", SHORT_LEASE_MS, now_ms()) is not None


def test_claim_runnable_oldest_first_with_limit_and_workflow_filter(store):
    ids = [new_execution(store, "flow", at=NOW + i) for i in range(3)]
    other = new_execution(store, "other", at=NOW - 10)
    claimed = store.claim_runnable("w1", LEASE_MS, NOW + 10, 2, ["flow"])
    assert [lease.execution_id for lease in claimed] == ids[:2]
    assert [
        lease.execution_id for lease in store.claim_runnable("w1", LEASE_MS, NOW + 10, 5, ["flow"])
    ] == ids[2:]
    assert store.claim_runnable("w1", LEASE_MS, NOW + 10, 5, []) == []
    assert [
        lease.execution_id for lease in store.claim_runnable("w1", LEASE_MS, NOW + 10, 5, ["other"])
    ] == [other]


def test_concurrent_claimers_never_share_an_execution(store_url, store):
    ids = {new_execution(store, at=NOW + i) for i in range(40)}
    claimed: list[str] = []
    lock = threading.Lock()

    def claimer(owner: str) -> None:
        mine = open_store(store_url)
        try:
            while leases := mine.claim_runnable(owner, LEASE_MS, NOW + 100, 3, ["flow"]):
                with lock:
                    claimed.extend(lease.execution_id for lease in leases)
        finally:
            mine.close()

    threads = [threading.Thread(target=claimer, args=(f"w{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(claimed) == sorted(ids)


def test_job_rows_round_trip_in_start_order(store):
    lease = claim_at(store, new_execution(store))
    main = job_row(lease, 1, "", "RUNNING")
    store.record_job_start(lease, main)
    child = job_row(lease, 2, "000000", logs="2025-01-01T00:00:00.000Z INFO hi")
    store.record_job_result(lease, child, started_recorded=False)
    slow = job_row(lease, 3, "000001", "RUNNING")
    store.record_job_start(lease, slow)
    slow.status, slow.result_json, slow.finished_at_ms = "SUCCESS", '{"slow":1}', NOW + 9
    store.record_job_result(lease, slow, started_recorded=True)
    rows = store.load_job_rows(lease.execution_id)
    assert [(r.seq, r.call_path, r.status) for r in rows] == [
        (1, "", "RUNNING"),
        (2, "000000", "SUCCESS"),
        (3, "000001", "SUCCESS"),
    ]
    assert rows[1].logs == "2025-01-01T00:00:00.000Z INFO hi"
    assert rows[2].result_json == '{"slow":1}' and rows[2].input_json == '{"n":1}'
    found = store.find_execution(lease.execution_id, with_jobs=True)
    assert found is not None and found.job_execution_count == 3
    assert [str(j.status) for j in found.job_executions] == ["RUNNING", "SUCCESS", "SUCCESS"]


def test_finish_and_resume(store):
    lease = claim_at(store, new_execution(store))
    main = job_row(lease, 1, "", "RUNNING")
    store.record_job_start(lease, main)
    main.status, main.error_json, main.finished_at_ms = "FAILED", '{"type":"E"}', NOW + 5
    main.error_json = '{"type":"E","message":"m"}'
    store.finish_execution(lease, main, main_job_recorded=True, status="FAILED", now_ms=NOW + 5)
    failed = store.find_execution(lease.execution_id, with_jobs=True)
    assert (
        failed is not None
        and failed.status == "FAILED"
        and failed.error == {"type": "E", "message": "m"}
    )
    assert failed.job_executions[0].status == "FAILED"
    store.mark_resumable(lease.execution_id, NOW + 6)
    resumed = store.find_execution(lease.execution_id)
    assert (
        resumed is not None and resumed.status == "PENDING_RESUME" and resumed.finished_at is None
    )
    again = claim_at(store, lease.execution_id, at=NOW + 7)
    store.finish_execution(
        again,
        job_row(again, 2, "", result_json='{"r":1}'),
        main_job_recorded=False,
        status="SUCCESS",
        now_ms=NOW + 8,
    )
    done = store.find_execution(lease.execution_id)
    assert done is not None and done.status == "SUCCESS" and done.result == {"r": 1}
    with pytest.raises(NotResumable):
        store.mark_resumable(lease.execution_id, NOW + 9)
    with pytest.raises(ExecutionNotFound):
        store.mark_resumable("missing", NOW + 9)
    with pytest.raises(LeaseLost):
        store.finish_execution(
            lease, main, main_job_recorded=True, status="FAILED", now_ms=NOW + 10
        )


def test_release_and_abandon(store):
    lease = claim_at(store, new_execution(store))
    store.record_job_start(lease, job_row(lease, 1, "", "RUNNING"))
    store.record_job_start(lease, job_row(lease, 2, "000000", "RUNNING"))
    store.record_job_result(lease, job_row(lease, 3, "000001"), started_recorded=False)
    store.release_execution(lease, NOW + 1)
    released = store.find_execution(lease.execution_id)
    assert released is not None and released.status == "PENDING_RESUME"
    again = claim_at(store, lease.execution_id, "w2", NOW + 2)
    assert store.abandon_unfinished_jobs(again, '{"type":"lost"}', NOW + 3) == 2
    rows = store.load_job_rows(lease.execution_id)
    assert [r.status for r in rows] == ["FAILED", "FAILED", "SUCCESS"]
    assert rows[0].error_json == '{"type":"lost"}' and rows[2].error_json is None


def test_workflow_registry(store):
    store.sync_workflows([WorkflowEntry("flow", "main", {"main": "v1"})], NOW)
    store.sync_workflows([WorkflowEntry("flow", "main", {"main": "v1"})], NOW + 5)
    [record] = store.list_workflow_records()
    assert record.updated_at == record.created_at
    store.sync_workflows([WorkflowEntry("flow", "main", {"main": "v2"})], NOW + 10)
    [changed] = store.list_workflow_records()
    assert changed.id == record.id and changed.job_versions == {"main": "v2"}
    assert changed.updated_at > changed.created_at
    lease = claim_at(store, new_execution(store))
    store.record_job_result(lease, job_row(lease, 1, ""), started_recorded=False)
    assert store.job_versions_used("flow") == {"job": {"v1"}}


def test_live_workers(store):
    assert store.live_worker_count(NOW, 5000) == 0
    store.register_worker("w1", "host:1", NOW)
    store.register_worker("w2", "host:2", NOW - 6000)
    assert store.live_worker_count(NOW, 5000) == 1
    store.remove_worker("w1")
    assert store.live_worker_count(NOW, 5000) == 0

"""The Store contract, written once and run on every backend (store_url is parametrized)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import pytest

from stackflow.clock import new_id
from stackflow.errors import ExecutionNotFound, LeaseLost, NotResumable
from stackflow.store import open_store
from stackflow.store.base import JobRow, Lease, NewExecution, Store, WorkflowEntry

NOW = 1_700_000_000_000
LEASE_MS = 10_000


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    opened = open_store(store_url)
    yield opened
    opened.close()


def _new(store: Store, workflow: str = "flow", *, at: int = NOW, key: str | None = None) -> str:
    return store.create_execution(
        NewExecution(new_id(), workflow, json.dumps({"at": at}), None, key, at)
    )


def _job(lease: Lease, seq: int, path: str, status: str = "SUCCESS", **fields: object) -> JobRow:
    row = JobRow(
        id=new_id(),
        execution_id=lease.execution_id,
        call_path=path,
        job_name="job",
        stacked_job_name="main/job" if path else "main",
        status=status,
        attempt=1,
        version="v1",
        started_at_ms=NOW + seq,
        finished_at_ms=None if status == "RUNNING" else NOW + seq + 1,
        input_json='{"n":1}',
        result_json='{"ok":true}' if status == "SUCCESS" else None,
        seq=seq,
    )
    for name, value in fields.items():
        setattr(row, name, value)
    return row


def _claim(store: Store, execution_id: str, owner: str = "w1", at: int = NOW) -> Lease:
    lease = store.claim_execution(execution_id, owner, LEASE_MS, at)
    assert lease is not None
    return lease


def test_reopening_a_store_keeps_its_data(store_url):
    first = open_store(store_url)
    execution_id = _new(first)
    first.close()
    again = open_store(store_url)
    try:
        found = again.find_execution(execution_id)
        assert found is not None and found.status == "PENDING"
    finally:
        again.close()


def test_create_find_and_list(store):
    first = _new(store, "a", at=NOW)
    second = _new(store, "b", at=NOW + 5)
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
    first = _new(store, "a", at=NOW)
    second = _new(store, "b", at=NOW + 5)
    same_time = [_new(store, "a", at=NOW + 9) for _ in range(3)]
    newest = [*reversed(same_time), second, first]
    assert [e.id for e in store.list_executions()] == newest
    for index, execution_id in enumerate(newest):
        older = store.list_executions(before=execution_id)
        assert [e.id for e in older] == newest[index + 1 :]
    page = store.list_executions(before=same_time[1], limit=2)
    assert [e.id for e in page] == [same_time[0], second]
    assert [e.id for e in store.list_executions(workflow_name="a", before=second)] == [first]
    assert store.list_executions(before="missing") == []


def test_idempotency_key(store):
    first = _new(store, key="k")
    assert _new(store, key="k") == first
    assert len(store.list_executions()) == 1


def test_a_claim_is_exclusive_until_the_lease_expires(store):
    execution_id = _new(store)
    lease = _claim(store, execution_id)
    assert lease.workflow_name == "flow" and json.loads(lease.arg_json) == {"at": NOW}
    assert store.claim_execution(execution_id, "w2", LEASE_MS, NOW + 1) is None
    assert store.claim_runnable("w2", LEASE_MS, NOW + 1, 10, ["flow"]) == []
    running = store.find_execution(execution_id)
    assert running is not None and running.status == "RUNNING" and running.started_at is not None
    taken = _claim(store, execution_id, "w2", NOW + LEASE_MS + 1)
    assert taken.fence > lease.fence
    with pytest.raises(LeaseLost):
        store.record_job_result(lease, _job(lease, 1, "000000"), started_recorded=False)
    store.record_job_result(taken, _job(taken, 1, "000000"), started_recorded=False)


def test_renewed_leases_are_not_taken(store):
    execution_id = _new(store)
    _claim(store, execution_id)
    store.renew_leases("w1", [execution_id], LEASE_MS, NOW + LEASE_MS - 1)
    assert store.claim_execution(execution_id, "w2", LEASE_MS, NOW + LEASE_MS + 1) is None


def test_claim_runnable_oldest_first_with_limit_and_workflow_filter(store):
    ids = [_new(store, "flow", at=NOW + i) for i in range(3)]
    other = _new(store, "other", at=NOW - 10)
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
    ids = {_new(store, at=NOW + i) for i in range(40)}
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
    lease = _claim(store, _new(store))
    main = _job(lease, 1, "", "RUNNING")
    store.record_job_start(lease, main)
    child = _job(lease, 2, "000000", logs="2025-01-01T00:00:00.000Z INFO hi")
    store.record_job_result(lease, child, started_recorded=False)
    slow = _job(lease, 3, "000001", "RUNNING")
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
    lease = _claim(store, _new(store))
    main = _job(lease, 1, "", "RUNNING")
    store.record_job_start(lease, main)
    main.status, main.error_json, main.finished_at_ms = "FAILED", '{"type":"E"}', NOW + 5
    store.finish_execution(
        lease,
        main,
        main_job_recorded=True,
        status="FAILED",
        result_json=None,
        error_json='{"type":"E","message":"m"}',
        now_ms=NOW + 5,
    )
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
    again = _claim(store, lease.execution_id, at=NOW + 7)
    store.finish_execution(
        again,
        _job(again, 2, ""),
        main_job_recorded=False,
        status="SUCCESS",
        result_json='{"r":1}',
        error_json=None,
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
            lease,
            main,
            main_job_recorded=True,
            status="FAILED",
            result_json=None,
            error_json=None,
            now_ms=NOW + 10,
        )


def test_release_and_abandon(store):
    lease = _claim(store, _new(store))
    store.record_job_start(lease, _job(lease, 1, "", "RUNNING"))
    store.record_job_start(lease, _job(lease, 2, "000000", "RUNNING"))
    store.record_job_result(lease, _job(lease, 3, "000001"), started_recorded=False)
    store.release_execution(lease, NOW + 1)
    released = store.find_execution(lease.execution_id)
    assert released is not None and released.status == "PENDING_RESUME"
    again = _claim(store, lease.execution_id, "w2", NOW + 2)
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
    lease = _claim(store, _new(store))
    store.record_job_result(lease, _job(lease, 1, ""), started_recorded=False)
    assert store.job_versions_used("flow") == {"job": {"v1"}}


def test_live_workers(store):
    assert store.live_worker_count(NOW, 5000) == 0
    store.register_worker("w1", "host:1", NOW)
    store.register_worker("w2", "host:2", NOW - 6000)
    assert store.live_worker_count(NOW, 5000) == 1
    store.remove_worker("w1")
    assert store.live_worker_count(NOW, 5000) == 0

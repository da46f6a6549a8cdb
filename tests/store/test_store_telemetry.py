"""What the store keeps for observability: trace contexts, lease takeovers, pending work."""

from __future__ import annotations

import json
import time

import pytest
from store_helpers import LEASE_MS, NOW, claim_at, new_execution

from stackflow.clock import new_id, now_ms
from stackflow.store.base import ClaimLimits, NewExecution, PendingWork, Store

SHORT_LEASE_MS = 300
TRACE = json.dumps({"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"})


def _traced_execution(store: Store, trace_context: str | None) -> str:
    new = NewExecution(new_id(), "flow", "{}", None, None, NOW, trace_context=trace_context)
    return store.create_execution(new)


def test_the_trace_context_given_at_start_comes_back_with_each_claim(store):
    execution_id = _traced_execution(store, TRACE)
    untraced = _traced_execution(store, None)
    lease = claim_at(store, execution_id)
    assert lease.trace_context == TRACE
    assert claim_at(store, untraced).trace_context is None
    store.record_trace_context(lease, '{"run": "later"}')
    store.release_execution(lease, NOW + 1)
    again = claim_at(store, execution_id, "w2")
    assert again.trace_context == '{"run": "later"}'


def test_a_lost_lease_does_not_replace_the_trace_context(store):
    execution_id = _traced_execution(store, TRACE)
    lease = store.claim_execution(execution_id, "w1", SHORT_LEASE_MS, now_ms())
    assert lease is not None
    time.sleep(SHORT_LEASE_MS / 1000 + 0.1)
    taken = store.claim_execution(execution_id, "w2", LEASE_MS, now_ms())
    assert taken is not None
    store.record_trace_context(lease, '{"run": "stale"}')  # ignored: no longer its owner
    store.release_execution(taken, now_ms())
    assert claim_at(store, execution_id, "w3", now_ms()).trace_context == TRACE


@pytest.mark.parametrize("limits", [ClaimLimits(), ClaimLimits(10, {"flow": 5})])
def test_a_claim_says_whether_it_took_over_an_expired_lease(store, limits):
    abandoned, fresh, handed_back = (new_execution(store, at=NOW + i) for i in range(3))
    claimed_at = now_ms()
    lease = store.claim_execution(abandoned, "w1", SHORT_LEASE_MS, claimed_at)
    assert lease is not None and not lease.taken_over and lease.runnable_since_ms == NOW
    released = claim_at(store, handed_back)
    store.release_execution(released, NOW + 50)
    time.sleep(SHORT_LEASE_MS / 1000 + 0.1)
    claimed = store.claim_runnable("w2", LEASE_MS, now_ms(), 10, ["flow"], limits)
    taken_over = {claim.execution_id: claim.taken_over for claim in claimed}
    assert taken_over == {abandoned: True, fresh: False, handed_back: False}
    since = {claim.execution_id: claim.runnable_since_ms for claim in claimed}
    assert since[fresh] == NOW + 1 and since[handed_back] == NOW + 50
    expired_at = since[abandoned]  # when the lease ran out, by the store's clock
    assert expired_at is not None
    assert claimed_at + SHORT_LEASE_MS - 1000 < expired_at < claimed_at + SHORT_LEASE_MS + 1000


def test_pending_work_is_counted_per_workflow_with_the_longest_wait(store):
    for at, workflow in ((NOW, "a"), (NOW + 5, "a"), (NOW + 7, "b"), (NOW + 9, "c")):
        new_execution(store, workflow, at=at)
    running = claim_at(store, store.list_executions(workflow_name="c")[0].id, at=NOW + 10)
    assert store.pending_work() == [PendingWork("a", 2, NOW), PendingWork("b", 1, NOW + 7)]
    store.release_execution(running, NOW + 20)  # PENDING_RESUME waits for a worker too
    assert store.pending_work()[-1] == PendingWork("c", 1, NOW + 20)

"""Helpers of the store contract tests: executions, job rows and claims at made-up times."""

from __future__ import annotations

import json

from stackflow.clock import new_id
from stackflow.records import JobStatus
from stackflow.store.base import JobRow, Lease, NewExecution, Store

NOW = 1_700_000_000_000
LEASE_MS = 10_000


def new_execution(
    store: Store, workflow: str = "flow", *, at: int = NOW, key: str | None = None
) -> str:
    return store.create_execution(
        NewExecution(new_id(), workflow, json.dumps({"at": at}), None, key, at)
    )


def job_row(lease: Lease, seq: int, path: str, status: str = "SUCCESS", **fields: object) -> JobRow:
    row = JobRow(
        execution_id=lease.execution_id,
        call_path=path,
        job_name="job",
        stacked_job_name="main/job" if path else "main",
        status=JobStatus(status),
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


def claim_at(store: Store, execution_id: str, owner: str = "w1", at: int = NOW) -> Lease:
    lease = store.claim_execution(execution_id, owner, LEASE_MS, at)
    assert lease is not None
    return lease

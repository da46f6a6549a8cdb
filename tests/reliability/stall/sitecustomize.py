"""Test instrumentation: stall a worker once at a chosen point, as if it were paused there.

Loaded at interpreter start-up when this directory is on PYTHONPATH and STALL_MARKER is
set. The first time the process reaches the point, it writes the marker file and sleeps
STALL_SECONDS, then carries on. The point is either just before a transactional job
opens its transaction (STALL_AT=transaction) or just before a job calls the child job
named STALL_AT (before the engine creates the child's job execution).
"""

import os
import time
from pathlib import Path


def _stall() -> None:
    marker = Path(os.environ["STALL_MARKER"])
    if marker.exists():
        return
    marker.write_text(str(os.getpid()))
    time.sleep(float(os.environ.get("STALL_SECONDS", "5")))


if os.environ.get("STALL_MARKER"):
    if os.environ.get("STALL_AT") == "transaction":
        import stackflow.tailordb.jobs as jobs

        _open = jobs.namespace_transaction

        def _stalled_transaction(namespace):
            _stall()
            return _open(namespace)

        jobs.namespace_transaction = _stalled_transaction
    else:
        from stackflow.engine.job_run import JobRun

        _call_child = JobRun.call_child

        def _stalled_call(self, job, input):
            if job.name == os.environ.get("STALL_AT"):
                _stall()
            return _call_child(self, job, input)

        JobRun.call_child = _stalled_call

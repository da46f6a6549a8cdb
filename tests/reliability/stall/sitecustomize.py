"""Test instrumentation: stall a worker just before a transactional job opens its transaction.

Loaded at interpreter start-up when this directory is on PYTHONPATH and STALL_MARKER is
set: the process writes the marker file, sleeps STALL_SECONDS, then carries on, as if
it had been paused (SIGSTOP) at that point.
"""

import os
import time
from pathlib import Path

if os.environ.get("STALL_MARKER"):
    import stackflow.tailordb.jobs as jobs

    _original = jobs.namespace_transaction

    def _stalled(namespace):
        Path(os.environ["STALL_MARKER"]).write_text(str(os.getpid()))
        time.sleep(float(os.environ.get("STALL_SECONDS", "5")))
        return _original(namespace)

    jobs.namespace_transaction = _stalled

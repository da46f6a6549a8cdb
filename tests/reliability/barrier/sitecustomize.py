"""Test instrumentation: processes that plan a TailorDB migration wait for each other.

Loaded at interpreter start-up when this directory is on PYTHONPATH and MIGRATE_BARRIER
names a directory: after planning its migration, each process leaves a file there and
waits (up to BARRIER_SECONDS) until MIGRATE_PARTIES processes have planned, so that they
all apply their plans at the same moment.
"""

import os
import time
from pathlib import Path

if os.environ.get("MIGRATE_BARRIER"):
    import stackflow.tailordb.registry as registry

    _original = registry.plan

    def _plan_then_wait(*args, **kwargs):
        found = _original(*args, **kwargs)
        barrier = Path(os.environ["MIGRATE_BARRIER"])
        (barrier / str(os.getpid())).touch()
        deadline = time.monotonic() + float(os.environ.get("BARRIER_SECONDS", "5"))
        parties = int(os.environ["MIGRATE_PARTIES"])
        while len(list(barrier.iterdir())) < parties and time.monotonic() < deadline:
            time.sleep(0.01)
        return found

    registry.plan = _plan_then_wait

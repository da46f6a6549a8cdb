"""W5 and W2W for DBOS as deployed: this process is a DBOSClient, a separate DBOS process serves.

The server is `benchmarks.dbos_server` on a fresh system database; the client
enqueues on its queue with `DBOSClient.enqueue` and waits with the handle's
`get_result()`, both with DBOS's defaults (the queue is polled once a second,
and so is `get_result`).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from dbos import DBOSClient

from benchmarks import dbos_side, pg, pg_cost, processes
from benchmarks.dbos_server import QUEUE
from benchmarks.spec import W2_CHILDREN_PER_EXECUTION
from benchmarks.stats import percentiles


def _options(workflow: Any) -> Any:
    return {"queue_name": QUEUE, "workflow_name": workflow.__qualname__}


def _w5(client: DBOSClient, n: int, server_pid: int) -> dict[str, Any]:
    samples = []
    for i in range(n):
        started = time.perf_counter()
        result = client.enqueue(_options(dbos_side.one_job_workflow), i).get_result()
        samples.append((time.perf_counter() - started) * 1e3)
        if result != {"i": i, "pid": server_pid}:
            raise AssertionError(f"unexpected result {result!r} (server pid {server_pid})")
    p50, p90, p99 = percentiles(samples, (50, 90, 99))
    return {"value": p50, "details": {"p90_ms": p90, "p99_ms": p99}}


def _w2w(client: DBOSClient, n: int, server_pid: int) -> dict[str, Any]:
    started = time.perf_counter()
    handles = [client.enqueue(_options(dbos_side.many_workflow), k) for k in range(n)]
    results = [handle.get_result() for handle in handles]
    elapsed = time.perf_counter() - started
    if any(result != {"done": W2_CHILDREN_PER_EXECUTION} for result in results):
        raise AssertionError("an execution returned an unexpected result")
    return {"value": n / elapsed}


_WORKLOADS = {"W5": _w5, "W2W": _w2w}


def _server_command(url: str, wal: bool, synchronous: str) -> list[str]:
    command = [sys.executable, "-m", "benchmarks.dbos_server", "--database", url]
    return [*command, "--synchronous", synchronous, *(["--wal"] if wal else [])]


def run(
    workload: str,
    n: int,
    directory: Path,
    *,
    wal: bool,
    synchronous: str,
    postgres_url: str | None = None,
) -> dict[str, Any]:
    """Run W5 or W2W once through a fresh DBOS server process on a fresh system database."""
    measure = _WORKLOADS[workload]
    dbos_side.install_pragmas(wal, synchronous)  # the client's SQLite connections too
    with pg.fresh_store(directory, postgres_url, "dbos.sqlite") as (url, note):
        command = _server_command(url, wal, synchronous)
        log = directory / "dbos-server.log"
        with processes.serving(
            "the DBOS server", command, cwd=Path.cwd(), log=log, ready_marker="ready "
        ) as server:
            client = DBOSClient(system_database_url=url, application_name=dbos_side.APP_NAME)
            try:
                measure(client, 1, server.pid)  # warm-up: the queue is served
                cost_url = url if postgres_url and workload == "W2W" else None
                measured = pg_cost.measure(cost_url, n, lambda: measure(client, n, server.pid))
            finally:
                client.destroy()
    details = measured.setdefault("details", {})
    details.update(dbos_side.observed(), database=note)
    details["dbos_path"] = "DBOSClient.enqueue on a queue served by a separate DBOS process"
    return measured

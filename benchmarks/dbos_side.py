"""The workloads written for DBOS Transact with its public API, on a fresh system database.

The system database is a fresh SQLite file, or a fresh PostgreSQL database for
the PostgreSQL rows.

The WAL row switches DBOS's SQLite file to `journal_mode=WAL` and the given
`synchronous` with a SQLAlchemy `connect` listener registered on the Engine
class before DBOS creates its engine: DBOS builds the system database engine
with `sqlalchemy.create_engine(system_database_url)` and sets only
`isolation_level`, `busy_timeout` and `foreign_keys` on each connection, so
every connection it opens gets our two pragmas as well. The default row adds
a listener that only reads the two settings back, for the record.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time
from collections import Counter
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from dbos import DBOS

from benchmarks import pg, pg_cost
from benchmarks.spec import W2_CHILDREN_PER_EXECUTION, W4_SLEEP_SECONDS

APP_NAME = "stackflow-bench"
_runs: Counter[int] = Counter()
_observed: dict[str, str] = {}
_SYNCHRONOUS_NAMES = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}


@DBOS.step()
def child(i: int) -> dict[str, Any]:
    return {"i": i, "ok": True}


@DBOS.workflow()
def chain_workflow(n: int) -> dict[str, int]:
    for i in range(n):
        child(i)
    return {"done": n}


@DBOS.workflow()
def many_workflow(k: int) -> dict[str, int]:
    for i in range(W2_CHILDREN_PER_EXECUTION):
        child(k * W2_CHILDREN_PER_EXECUTION + i)
    return {"done": W2_CHILDREN_PER_EXECUTION}


@DBOS.workflow()
def one_job_workflow(i: int) -> dict[str, int]:
    """W5's one-job workflow: the workflow is the job (stackflow's main job), with no steps."""
    return {"i": i, "pid": os.getpid()}


@DBOS.step()
def flaky_child(i: int, last: int) -> dict[str, Any]:
    _runs[i] += 1
    if i == last and _runs[i] == 1:
        raise RuntimeError(f"child {i} fails on its first attempt")
    return {"i": i, "ok": True}


@DBOS.workflow()
def resume_workflow(n: int) -> dict[str, int]:
    for i in range(n):
        flaky_child(i, n - 1)
    return {"done": n}


@DBOS.step()
async def sleeper(i: int) -> dict[str, Any]:
    await asyncio.sleep(W4_SLEEP_SECONDS)
    return {"i": i, "ok": True}


@DBOS.workflow()
async def fanout_workflow(n: int) -> dict[str, int]:
    results = await asyncio.gather(*(sleeper(i) for i in range(n)))
    return {"done": len(results)}


def install_pragmas(wal: bool, synchronous: str) -> None:
    """Switch every SQLite connection SQLAlchemy opens from now on to WAL (if `wal`).

    Either way, the journal mode and `synchronous` each connection ends up with are recorded.
    """

    @sa.event.listens_for(sa.engine.Engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        if not isinstance(dbapi_conn, sqlite3.Connection):
            return
        if wal:
            dbapi_conn.execute("PRAGMA journal_mode=WAL")
            dbapi_conn.execute(f"PRAGMA synchronous={synchronous}")
        mode = dbapi_conn.execute("PRAGMA journal_mode").fetchone()[0]
        sync = dbapi_conn.execute("PRAGMA synchronous").fetchone()[0]
        _observed.update(journal_mode=mode, synchronous=_SYNCHRONOUS_NAMES.get(sync, str(sync)))


def _w1(n: int) -> dict[str, Any]:
    started = time.perf_counter()
    result = DBOS.start_workflow(chain_workflow, n).get_result()
    elapsed = time.perf_counter() - started
    assert result == {"done": n}, result
    return {"value": elapsed / n * 1e6}


def _w2(n: int) -> dict[str, Any]:
    started = time.perf_counter()
    handles = [DBOS.start_workflow(many_workflow, k) for k in range(n)]
    results = [h.get_result() for h in handles]
    elapsed = time.perf_counter() - started
    assert all(r == {"done": W2_CHILDREN_PER_EXECUTION} for r in results)
    return {"value": n / elapsed}


def _w3(n: int) -> dict[str, Any]:
    handle = DBOS.start_workflow(resume_workflow, n)
    try:
        handle.get_result()
    except RuntimeError:
        pass
    else:
        raise AssertionError("the first run did not fail")
    steps = DBOS.list_workflow_steps(handle.get_workflow_id())
    failed_step = next(s["function_id"] for s in steps if s["error"] is not None)
    forked_at_ms = time.time() * 1e3
    started = time.perf_counter()
    fork = DBOS.fork_workflow(handle.get_workflow_id(), failed_step)
    result = fork.get_result()
    elapsed = time.perf_counter() - started
    once = all(_runs[i] == 1 for i in range(n - 1)) and _runs[n - 1] == 2
    rerun = next(
        s
        for s in DBOS.list_workflow_steps(fork.get_workflow_id())
        if s["function_id"] == failed_step
    )
    return {
        "value": elapsed * 1e3,
        "details": {
            "exactly_once": once and result == {"done": n},
            "resume": f"DBOS.fork_workflow from step {failed_step} (new workflow id)",
            "failed_child_rerun_after_ms": rerun["started_at_epoch_ms"] - forked_at_ms,
        },
    }


async def _w4_async(n: int) -> Any:
    handle = await DBOS.start_workflow_async(fanout_workflow, n)
    return await handle.get_result()


def _w4(n: int) -> dict[str, Any]:
    started = time.perf_counter()
    result = asyncio.run(_w4_async(n))
    elapsed = time.perf_counter() - started
    assert result == {"done": n}, result
    return {"value": elapsed * 1e3}


_WORKLOADS = {"W1": _w1, "W2": _w2, "W2W": _w2, "W3": _w3, "W4": _w4}


def observed() -> dict[str, str]:
    """The journal mode and `synchronous` read back on DBOS's SQLite connections (if any)."""
    return dict(_observed)


def launch(url: str, *, wal: bool, synchronous: str) -> None:
    """Configure and launch DBOS on the system database `url`."""
    install_pragmas(wal, synchronous)
    config: Any = {"name": APP_NAME, "system_database_url": url, "log_level": "WARNING"}
    DBOS(config=config)
    DBOS.launch()


def run(
    workload: str,
    n: int,
    directory: Path,
    *,
    wal: bool,
    synchronous: str,
    postgres_url: str | None = None,
) -> dict[str, Any]:
    """Run one workload once on a fresh DBOS instance and return its measurement.

    W2W on DBOS's executor is W2 (DBOS.start_workflow runs the workflows on its
    thread pool in this process); on PostgreSQL the server's cost is measured.
    """
    with pg.fresh_store(directory, postgres_url, "dbos.sqlite") as (url, note):
        launch(url, wal=wal, synchronous=synchronous)
        cost_url = url if postgres_url and workload == "W2W" else None
        try:
            measured = pg_cost.measure(cost_url, n, lambda: _WORKLOADS[workload](n))
        finally:
            DBOS.destroy()
    details = measured.setdefault("details", {})
    details.update(_observed, database=note)
    if workload == "W2W":
        details["dbos_path"] = "DBOS.start_workflow on its executor, in the client process"
    return measured

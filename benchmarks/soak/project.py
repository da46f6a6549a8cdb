"""The soak project: jobs that chain, fan out, book rows exactly once and leave marks."""

from __future__ import annotations

import textwrap
from pathlib import Path

WORKFLOW_NAME = "soak"
MACHINE_USER = "soak"
LOG_VARIABLE = "SOAK_LOG"
STORE_VARIABLE = "SOAK_STORE"

WORKFLOW = textwrap.dedent(
    '''
    """Soak workflow: a chain of stages; each fans out to leaves, then books one row.

    Every job body appends `<execution> <label> <pid> <fence> <store fence> <start ms>` to
    an fsynced log before it returns: the fence of the claim it runs under and the fence
    the store held when the body started.
    """

    import os
    import sqlite3
    import threading
    import time

    from stackflow import create_workflow, create_workflow_job
    from stackflow.tailordb import get_db

    try:
        from stackflow.definitions.runner import current_runner
    except ImportError:  # the package before its restructuring
        from stackflow.context import current_runner

    _local = threading.local()


    def _store_fence(execution_id):
        url = os.environ["SOAK_STORE"]
        conn = getattr(_local, "conn", None)
        if conn is None:
            if url.startswith("sqlite:///"):
                conn = sqlite3.connect(url[len("sqlite:///"):], isolation_level=None, timeout=30)
            else:
                import psycopg

                conn = psycopg.connect(url, autocommit=True)
            _local.conn = conn
        mark = "?" if url.startswith("sqlite:///") else "%s"
        found = conn.execute(f"SELECT fence FROM executions WHERE id = {mark}", (execution_id,))
        return int(found.fetchone()[0])


    def _observe(ctx):
        """What the body saw as it started: (start ms, its claim's fence, the store's fence)."""
        started_ms = time.time_ns() // 1_000_000
        fence = current_runner.get().lease.fence
        return started_ms, fence, _store_fence(ctx.execution_id)


    def _mark(ctx, label, seen):
        started_ms, fence, store_fence = seen
        line = f"{ctx.execution_id} {label} {os.getpid()} {fence} {store_fence} {started_ms}\\n"
        fd = os.open(os.environ["SOAK_LOG"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line.encode())
            os.fsync(fd)
        finally:
            os.close(fd)


    def _leaf(input, ctx):
        seen = _observe(ctx)
        time.sleep(input["work_ms"] / 1000)
        _mark(ctx, input["label"], seen)
        return {"value": input["value"] + 1}


    leaf = create_workflow_job(name="leaf", body=_leaf)


    def _book(input, ctx):
        seen = _observe(ctx)
        row = {"execution": ctx.execution_id, "label": input["label"], "total": input["total"]}
        get_db("tailordb").insert_into("Booking").values(row).execute()
        _mark(ctx, input["label"], seen)
        return {"booked": input["label"]}


    book = create_workflow_job(name="book", body=_book, transactional=True)


    def _stage(input, ctx):
        seen = _observe(ctx)
        label = input["label"]
        handles = [
            ctx.jobs.leaf.start(
                {
                    "label": f"{label}/leaf{i}",
                    "value": input["carry"] + i,
                    "work_ms": (input["salt"] * 7 + i * 31) % input["max_work_ms"],
                }
            )
            for i in range(input["fanout"])
        ]
        total = sum(handle.result()["value"] for handle in handles)
        ctx.jobs.book({"label": f"{label}/book", "total": total})
        _mark(ctx, label, seen)
        return {"total": total}


    stage = create_workflow_job(name="stage", body=_stage, deps=[leaf, book])


    def _main(input, ctx):
        seen = _observe(ctx)
        carry = 0
        for index in range(input["stages"]):
            carry = ctx.jobs.stage(
                {
                    "label": f"stage{index}",
                    "carry": carry,
                    "fanout": input["fanout"],
                    "salt": input["salt"] + index,
                    "max_work_ms": input["max_work_ms"],
                }
            )["total"]
        _mark(ctx, "main", seen)
        return {"total": carry}


    main = create_workflow_job(name="main", body=_main, deps=[stage])
    workflow = create_workflow(name="soak", main_job=main)
    '''
)

BOOKING = textwrap.dedent(
    '''
    """The rows transactional jobs write: one per booking call, exactly once."""

    from stackflow.tailordb import db

    booking = db.type(
        "Booking",
        {"execution": db.string().index(), "label": db.string(), "total": db.int()},
    )
    '''
)


def config_text(database_url: str, lease_seconds: float) -> str:
    """The project's stackflow.toml."""
    return textwrap.dedent(
        f"""
        name = "soak"
        database = "{database_url}"
        [workflow]
        files = ["workflows/*.py"]
        [db.tailordb]
        files = ["tailordb/*.py"]
        [machine_users.{MACHINE_USER}]
        attributes = {{}}
        [engine]
        lease_seconds = {lease_seconds}
        """
    ).lstrip()


def write_project(root: Path, database_url: str, lease_seconds: float) -> Path:
    """Write the soak project under `root`; return its stackflow.toml."""
    for relative, text in {
        "workflows/soak.py": WORKFLOW,
        "tailordb/booking.py": BOOKING,
        "stackflow.toml": config_text(database_url, lease_seconds),
    }.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root / "stackflow.toml"


def expected_total(stages: int, fanout: int) -> int:
    """The result every soak execution must end with (the stages carry their totals)."""
    carry = 0
    for _ in range(stages):
        carry = sum(carry + i + 1 for i in range(fanout))
    return carry

"""A lost wake-up delays a start by at most the fallback poll; it never strands it."""

from __future__ import annotations

import time

import psycopg
import pytest
from commands import wait_until

from stackflow.engine.wakeups import FALLBACK_POLL_SECONDS
from stackflow.store.datagrams import channel_directory
from stackflow.store.sqlite import sqlite_path

STEPS = {"steps": 1}
STARTED_WITHIN_SECONDS = FALLBACK_POLL_SECONDS + 4.0
"""The fallback poll, and room for a loaded machine to claim and run one short job."""


def _silence_the_workers(store_url: str) -> None:
    """Make every notification to the live workers go nowhere."""
    if store_url.startswith("sqlite:"):
        for socket_file in channel_directory(sqlite_path(store_url)).glob("*.sock"):
            socket_file.unlink()  # datagrams to it are refused from now on: never delivered
        return
    with psycopg.connect(store_url, autocommit=True) as admin:
        ended = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND query LIKE 'LISTEN%'"
        ).fetchall()
    assert ended, "the worker was not listening"


@pytest.mark.slow
def test_a_start_whose_notification_is_lost_still_runs(fault_project, store_url):
    project = fault_project(store_url, 15.0)
    engine = project.engine()
    worker = project.start_worker(concurrency=2)
    warm = engine.start("faults", STEPS)
    assert engine.wait(warm, timeout=30).status == "SUCCESS"  # the worker is listening
    _silence_the_workers(store_url)
    started = time.monotonic()
    execution_id = engine.start("faults", STEPS)
    wait_until(
        lambda: engine.get_execution(execution_id).status == "SUCCESS",
        STARTED_WITHIN_SECONDS,
        "the execution whose wake-up was lost",
    )
    assert time.monotonic() - started < STARTED_WITHIN_SECONDS
    assert project.runs()[f"{execution_id}/0"] == [worker.pid]  # the worker ran it
    engine.close()

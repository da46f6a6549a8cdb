"""engine.resume_all, cancel_all and prune: many executions, in batches, by filters."""

from __future__ import annotations

import time

import pytest

from stackflow import create_workflow, create_workflow_job
from stackflow.config import RetentionSettings
from stackflow.engine import bulk
from stackflow.engine.retention import BackgroundPrune
from stackflow.errors import InvalidArgument
from stackflow.records import ExecutionStatus
from stackflow.store import open_store

fail_switch = {"on": True}


def _flaky(input):
    if fail_switch["on"]:
        raise RuntimeError("down")
    return "ok"


def _workflow(name: str):
    return create_workflow(
        name=name, main_job=create_workflow_job(name=f"{name}-main", body=_flaky)
    )


@pytest.fixture(autouse=True)
def failing():
    fail_switch["on"] = True
    yield
    fail_switch["on"] = True


def _statuses(engine, name=None) -> list[str]:
    return sorted(str(e.status) for e in engine.list_executions(name))


def test_resume_all_crosses_batches_and_keeps_to_its_filters(make_engine, monkeypatch):
    monkeypatch.setattr(bulk, "BATCH_SIZE", 7)
    orders, mails = _workflow("orders"), _workflow("mails")
    engine = make_engine(orders, mails)
    for workflow, count in ((orders, 20), (mails, 3)):
        for _ in range(count):
            engine.start(workflow)
    engine.run_pending()
    fail_switch["on"] = False

    assert engine.resume_all("orders", dry_run=True) == 20
    assert _statuses(engine, "orders") == ["FAILED"] * 20  # a dry run changes nothing
    assert engine.resume_all("orders") == 20
    assert _statuses(engine, "orders") == ["PENDING_RESUME"] * 20
    assert _statuses(engine, "mails") == ["FAILED"] * 3
    assert engine.resume_all("orders") == 0  # nothing left to resume
    engine.run_pending()
    assert _statuses(engine, "orders") == ["SUCCESS"] * 20


def test_since_selects_recent_executions_only(make_engine):
    orders = _workflow("orders")
    engine = make_engine(orders)
    old = engine.start(orders)
    time.sleep(1.2)
    recent = engine.start(orders)
    engine.run_pending()
    assert engine.resume_all(since="1s") == 1
    assert engine.get_execution(recent).status == "PENDING_RESUME"
    assert engine.get_execution(old).status == "FAILED"
    assert engine.resume_all(since=60) == 1


def test_cancel_all_cancels_what_has_not_ended(make_engine, monkeypatch):
    monkeypatch.setattr(bulk, "BATCH_SIZE", 2)
    orders = _workflow("orders")
    engine = make_engine(orders)
    failed = engine.start(orders)
    engine.run_pending()
    pending = [engine.start(orders) for _ in range(5)]
    assert engine.cancel_all(status="PENDING", dry_run=True) == 5
    assert engine.cancel_all(status="pending") == 5
    assert {engine.get_execution(e).status for e in pending} == {ExecutionStatus.CANCELED}
    assert engine.get_execution(failed).status == "FAILED"


def test_bulk_filters_are_checked(make_engine):
    engine = make_engine(_workflow("orders"))
    with pytest.raises(InvalidArgument, match="resume acts only on FAILED, PENDING_RETRY"):
        engine.resume_all(status="SUCCESS")
    with pytest.raises(InvalidArgument, match="Invalid status: nope"):
        engine.cancel_all(status="nope")
    with pytest.raises(InvalidArgument, match="since must be a duration"):
        engine.cancel_all(since="yesterday")
    with pytest.raises(InvalidArgument, match="prune acts only on SUCCESS, FAILED, CANCELED"):
        engine.prune("1d", "RUNNING")
    with pytest.raises(InvalidArgument, match="older_than must be a duration"):
        engine.prune("soon")


def test_prune_deletes_old_final_executions_only(make_engine):
    orders = _workflow("orders")
    engine = make_engine(orders)
    fail_switch["on"] = False
    done = [engine.start(orders) for _ in range(3)]
    fail_switch_failed = engine.start(orders, {"fail": True})
    engine.run_pending()
    canceled = engine.start(orders)
    engine.cancel(canceled)
    fail_switch["on"] = True
    failed = engine.start(orders)
    engine.run_pending()
    time.sleep(1.1)
    pending = engine.start(orders)

    assert engine.prune("1s", dry_run=True).count == 5
    assert engine.prune("1h").count == 0
    report = engine.prune("1s")
    assert (report.count, report.job_executions) == (5, 4)  # the canceled one ran no job
    remaining = {e.id for e in engine.list_executions()}
    assert remaining == {failed, pending}
    assert not set(done) & remaining and fail_switch_failed not in remaining
    assert engine.prune("1s", "FAILED").count == 1
    assert {e.id for e in engine.list_executions()} == {pending}


def test_a_worker_prunes_what_its_retention_says(make_engine):
    orders = _workflow("orders")
    engine = make_engine(orders)
    fail_switch["on"] = False
    done = engine.start(orders)
    engine.run_pending()
    fail_switch["on"] = True
    failed = engine.start(orders)
    engine.run_pending()
    time.sleep(1.1)
    lines: list[str] = []
    settings = RetentionSettings(1.0, (ExecutionStatus.SUCCESS, ExecutionStatus.FAILED))

    pruner = BackgroundPrune(lambda: open_store(engine.database_url), settings, lines.append)
    try:
        report = pruner.prune_once()
    finally:
        pruner.close()

    assert report.count == 2
    assert engine.find_execution(done) is None and engine.find_execution(failed) is None
    assert lines and lines[0].startswith("retention: deleted 2 execution(s) finished before ")

"""`stackflow db copy`: a store's whole history moves SQLite → PostgreSQL and back, unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest

from stackflow import create_wait_point, create_workflow, create_workflow_job
from stackflow.cli.main import main
from stackflow.engine.engine import Engine
from stackflow.records import Execution
from stackflow.store import open_store

pytestmark = pytest.mark.postgres

double = create_workflow_job(name="double", body=lambda input: {"n": input["n"] * 2})
boom = create_workflow_job(name="boom", body=lambda input: 1 / 0)
review = create_wait_point("copy-review")


def _main(input, ctx):
    if input.get("fail"):
        ctx.jobs.boom({})
    if input.get("wait"):
        review.wait({"n": input["n"]})
    return [ctx.jobs.double({"n": i})["n"] for i in range(input["n"])]


main_job = create_workflow_job(name="copy-main", body=_main, deps=[double, boom])
workflow = create_workflow(name="copy-flow", main_job=main_job)


def _history(url: str) -> tuple[list[Execution], list[object], list[object]]:
    store = open_store(url)
    try:
        executions = [store.find_execution(e.id, with_jobs=True) for e in store.list_executions()]
        waits = [store.load_waits(e.id) for e in store.list_executions()]
        return executions, store.list_workflow_records(), waits  # type: ignore[return-value]
    finally:
        store.close()


def _fill(url: str) -> None:
    with Engine(url, [workflow]) as engine:
        for arg in ({"n": 3}, {"n": 1, "fail": True}, {"n": 2, "wait": True}):
            engine.wait(engine.start(workflow, arg))
        engine.start(workflow, {"n": 5})  # still PENDING


def test_copy_sqlite_to_postgres_and_back(sqlite_url, postgres_url, tmp_path: Path, capsys):
    _fill(sqlite_url)
    original = _history(sqlite_url)
    assert [str(e.status) for e in original[0]] == ["PENDING", "WAITING", "FAILED", "SUCCESS"]

    assert main(["db", "copy", sqlite_url, postgres_url]) == 0
    assert "Copied 4 executions, 7 job executions, 1 workflows" in capsys.readouterr().err
    assert _history(postgres_url) == original

    back = f"sqlite:///{(tmp_path / 'back.db').as_posix()}"
    assert main(["db", "copy", postgres_url, back]) == 0
    assert _history(back) == original

    with Engine(postgres_url, [workflow]) as engine:  # the copy is a working store
        done = engine.wait(engine.list_executions(status="PENDING")[0].id)
        assert done.status == "SUCCESS" and done.result == [0, 2, 4, 6, 8]
        waiting = engine.list_executions(status="WAITING")[0].id
        review.resolve(waiting, lambda payload: {"ok": True}, engine=engine)
        assert engine.wait(waiting).status == "SUCCESS"


def test_a_non_empty_destination_is_refused_unless_forced(sqlite_url, postgres_url, capsys):
    _fill(sqlite_url)
    with Engine(postgres_url, [workflow]) as engine:
        engine.wait(engine.start(workflow, {"n": 1}))
    assert main(["db", "copy", sqlite_url, postgres_url]) == 1
    err = capsys.readouterr().err
    assert "already holds 1 executions and 1 workflows" in err and "--force" in err
    assert len(_history(postgres_url)[0]) == 1

    assert main(["db", "copy", sqlite_url, postgres_url, "--force"]) == 0
    assert _history(postgres_url) == _history(sqlite_url)


def test_copying_a_store_onto_itself_is_refused(sqlite_url, capsys):
    assert main(["db", "copy", sqlite_url, sqlite_url]) == 1
    assert "the source and destination stores are the same" in capsys.readouterr().err

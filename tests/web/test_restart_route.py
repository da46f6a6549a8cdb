"""`POST /api/executions/{id}/restart`: a new execution from an old one's history."""

from __future__ import annotations

import httpx
import pytest
from test_api_reads import assert_error
from web_helpers import Project

from stackflow import Engine

pytestmark = pytest.mark.skipif(
    not hasattr(Engine, "restart"), reason="Engine.restart is not in this version yet"
)


def test_restart_from_the_start(client: httpx.Client, engine: Engine, project: Project) -> None:
    old = project.ids["restock"]
    reply = client.post(f"/api/executions/{old}/restart")
    assert reply.status_code == 200, reply.text
    new = reply.json()["executionId"]
    assert reply.json() == {"executionId": new} and new != old
    restarted = engine.get_execution(new)
    assert restarted.arg == engine.get_execution(old).arg
    assert restarted.status == "PENDING"


def test_restart_from_a_job_with_a_new_argument(
    client: httpx.Client, engine: Engine, project: Project
) -> None:
    old = project.ids["restock"]
    body = {"fromJob": "restock/check-gate", "arg": {"gate": "elsewhere"}}
    reply = client.post(f"/api/executions/{old}/restart", json=body)
    assert reply.status_code == 200, reply.text
    assert engine.get_execution(reply.json()["executionId"]).arg == {"gate": "elsewhere"}


def test_restart_refused(client: httpx.Client, engine: Engine, project: Project) -> None:
    before = len(engine.list_executions())
    old = project.ids["restock"]
    unknown = client.post(f"/api/executions/{old}/restart", json={"fromJob": "restock/nope"})
    assert_error(unknown, 400, "restock/check-gate")
    assert_error(client.post("/api/executions/nope/restart"), 404, "Execution 'nope' not found.")
    bad = client.post(f"/api/executions/{old}/restart", json={"fromJob": 3})
    assert_error(bad, 400, "'fromJob' must be a non-empty string, got 3")
    assert len(engine.list_executions()) == before

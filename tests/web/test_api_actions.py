"""The JSON API's writes: start, resume, cancel, resolve; bad bodies refused, nothing done."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from json_shapes import EXECUTION_KEYS
from test_api_reads import assert_error
from web_helpers import Project

from stackflow import Engine
from stackflow.project.rules import Breach


def status(client: httpx.Client, execution_id: str) -> str:
    return str(client.get(f"/api/executions/{execution_id}").json()["status"])


def test_start(client: httpx.Client, engine: Engine) -> None:
    body = {"arg": {"orderId": "o9", "customerId": "c9"}, "machineUser": "admin"}
    started = client.post("/api/workflows/order-processing/start", json=body)
    assert started.status_code == 200, started.text
    assert set(started.json()) == {"executionId"}
    execution = engine.get_execution(started.json()["executionId"])
    assert (execution.status, execution.arg) == ("PENDING", body["arg"])
    assert execution.invoker is not None and execution.invoker["id"] == "admin"


def test_start_with_an_idempotency_key_starts_once(client: httpx.Client, engine: Engine) -> None:
    body = {"arg": {"orderId": "o1"}, "machineUser": "admin", "idempotencyKey": "order-o1"}
    first = client.post("/api/workflows/order-processing/start", json=body).json()
    again = client.post("/api/workflows/order-processing/start", json=body).json()
    assert first == again
    assert len(engine.list_executions("order-processing", "PENDING")) == 2  # the fixture's + this


@pytest.mark.parametrize(
    ("path", "body", "status", "text"),
    [
        ("nope", {"machineUser": "admin"}, 404, "Unknown workflow 'nope'."),
        ("restock", {}, 400, "Missing machineUser: name the machine user to start 'restock'"),
        ("restock", {"machineUser": "root"}, 400, "Unknown machine user 'root'."),
        ("restock", {"machineUser": "admin", "arg": [1]}, 400, "must be a JSON object"),
        ("restock", {"machineUser": 3}, 400, "'machineUser' must be a non-empty string, got 3"),
        ("restock", {"machineUser": "admin", "args": {}}, 400, "Unknown key 'args' in the body"),
        ("restock", [1], 400, "The request body must be a JSON object"),
    ],
)
def test_start_refused(
    client: httpx.Client, engine: Engine, path: str, body: object, status: int, text: str
) -> None:
    before = len(engine.list_executions())
    reply = client.post(f"/api/workflows/{path}/start", json=body)
    assert_error(reply, status, text)
    assert len(engine.list_executions()) == before


def test_malformed_json_is_400(client: httpx.Client, engine: Engine) -> None:
    before = len(engine.list_executions())
    reply = client.post(
        "/api/workflows/restock/start",
        content=b'{"machineUser": "admin",',
        headers={"Content-Type": "application/json"},
    )
    assert_error(reply, 400, "Invalid JSON body: Expecting property name enclosed in double")
    assert len(engine.list_executions()) == before


def test_oversize_body_is_413(client: httpx.Client, engine: Engine) -> None:
    before = len(engine.list_executions())
    big = {"machineUser": "admin", "arg": {"blob": "x" * (engine.payload_limit_bytes + 70_000)}}
    reply = client.post("/api/workflows/restock/start", content=json.dumps(big))
    assert_error(reply, 413, "Request body too large: at most 1114112 bytes.")
    assert len(engine.list_executions()) == before


def test_an_argument_over_the_payload_limit_is_413(client: httpx.Client, engine: Engine) -> None:
    """Within the body limit (payload limit + 64 KiB) but over the payload limit: also 413."""
    before = len(engine.list_executions())
    big = {"machineUser": "admin", "arg": {"blob": "x" * (engine.payload_limit_bytes + 10)}}
    reply = client.post("/api/workflows/restock/start", content=json.dumps(big))
    assert_error(reply, 413, "over the payload limit of 1048576 bytes")
    assert len(engine.list_executions()) == before


@pytest.mark.parametrize(
    ("body", "text"),
    [
        ('{"machineUser": "admin", "arg": {"a": ' + "[" * 5000 + "]" * 5000 + "}}", "nest"),
        ('{"machineUser": "admin", "arg": {"a": ' + "[" * 200 + "]" * 200 + "}}", "128 levels"),
        ('{"machineUser": "admin", "arg": {"n": ' + "7" * 5000 + "}}", "4300 digits"),
    ],
)
def test_a_deep_or_long_body_is_400(
    client: httpx.Client, engine: Engine, body: str, text: str
) -> None:
    before = len(engine.list_executions())
    reply = client.post("/api/workflows/restock/start", content=body)
    assert_error(reply, 400, text)
    assert len(engine.list_executions()) == before


def test_oversize_body_without_a_length_is_413(client: httpx.Client) -> None:
    def chunks() -> object:
        for _ in range(40):
            yield b"x" * 64 * 1024

    reply = client.post("/api/workflows/restock/start", content=chunks())
    assert_error(reply, 413, "Request body too large")


def test_resume_makes_it_runnable_but_runs_nothing(client: httpx.Client, project: Project) -> None:
    resumed = client.post(f"/api/executions/{project.failed}/resume")
    assert resumed.status_code == 200, resumed.text
    assert resumed.json() == {"executionId": project.failed}
    jobs_before = client.get(f"/api/executions/{project.failed}").json()["jobExecutions"]
    time.sleep(0.5)  # the server runs no job: it stays PENDING_RESUME for a worker
    shown = client.get(f"/api/executions/{project.failed}").json()
    assert (shown["status"], shown["jobExecutions"]) == ("PENDING_RESUME", jobs_before)
    assert_error(
        client.post(f"/api/executions/{project.succeeded}/resume"),
        409,
        f"Execution '{project.succeeded}' is not in a resumable state.",
    )
    assert_error(client.post("/api/executions/nope/resume"), 404, "Execution 'nope' not found.")


def test_cancel(client: httpx.Client, project: Project) -> None:
    canceled = client.post(f"/api/executions/{project.pending}/cancel")
    assert canceled.status_code == 200
    assert set(canceled.json()) == EXECUTION_KEYS
    assert canceled.json()["status"] == "CANCELED"
    assert canceled.json()["finishedAt"] is not None
    assert_error(client.post(f"/api/executions/{project.succeeded}/cancel"), 409, "cannot be")
    assert_error(client.post("/api/executions/nope/cancel"), 404, "not found")


def test_resolve(client: httpx.Client, engine: Engine, project: Project) -> None:
    waiting = project.ids["waiting"]
    url = f"/api/executions/{waiting}/wait-points/manager-approval"
    resolved = client.post(url, json={"result": {"approved": True}})
    assert resolved.status_code == 200, resolved.text
    assert set(resolved.json()) == EXECUTION_KEYS
    assert resolved.json()["status"] == "PENDING_RESUME"
    again = client.post(url, json={"result": {"approved": False}})
    assert_error(again, 409, "manager-approval")
    assert engine.wait(waiting, timeout=30).result == {"approved": True}
    elsewhere = f"/api/executions/{project.failed}/wait-points/manager-approval"
    assert_error(client.post(elsewhere, json={"result": 1}), 409, "is not waiting")
    missing = "/api/executions/nope/wait-points/manager-approval"
    assert_error(client.post(missing, json={"result": 1}), 404, "not found")


def test_a_project_with_breaches_starts_and_resumes_nothing(
    client: httpx.Client, engine: Engine, project: Project
) -> None:
    assert engine.project is not None
    engine.project.breaches.append(Breach("valid-definition", "broken on purpose", "w/x.py", 1))
    body = {"machineUser": "admin", "arg": {"gate": "g"}}
    assert_error(client.post("/api/workflows/restock/start", json=body), 409, "broken on purpose")
    assert_error(client.post(f"/api/executions/{project.failed}/resume"), 409, "w/x.py:1")
    assert status(client, project.failed) == "FAILED"
    assert client.get("/api/executions").status_code == 200

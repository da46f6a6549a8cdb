"""`POST /hooks/{name}`: signed bodies start the workflow (202); anything else starts nothing."""

from __future__ import annotations

import json

import httpx
import pytest
from test_api_reads import assert_error
from web_helpers import HOOK_SECRET, Project

from stackflow import Engine
from stackflow.definitions.webhooks import sign

ORDER = {"orderId": "o7", "customerId": "c7"}


def signed(body: bytes, secret: str = HOOK_SECRET) -> dict[str, str]:
    return {"X-Stackflow-Signature": sign(secret, body), "Content-Type": "application/json"}


def count(engine: Engine) -> int:
    return len(engine.list_executions())


def test_a_signed_request_starts_the_workflow(
    client: httpx.Client, engine: Engine, hook_secret: str
) -> None:
    body = json.dumps(ORDER).encode()
    reply = client.post("/hooks/order-hook", content=body, headers=signed(body))
    assert reply.status_code == 202, reply.text
    assert set(reply.json()) == {"executionId"}
    execution = engine.get_execution(reply.json()["executionId"])
    assert (execution.workflow_name, execution.status, execution.arg) == (
        "order-processing",
        "PENDING",
        ORDER,
    )
    assert execution.invoker is not None and execution.invoker["id"] == "admin"
    assert engine.wait(execution.id, timeout=30).status == "SUCCESS"


def test_the_signature_is_of_the_raw_body(client: httpx.Client, hook_secret: str) -> None:
    body = b'{ "orderId":"o8",  "customerId": "c8" }'
    reply = client.post("/hooks/order-hook", content=body, headers=signed(body))
    assert reply.status_code == 202
    reformatted = json.dumps(json.loads(body)).encode()
    again = client.post("/hooks/order-hook", content=reformatted, headers=signed(body))
    assert again.status_code == 401


BAD_SIGNATURES = {
    "missing": {},
    "wrong secret": {"X-Stackflow-Signature": sign("other", json.dumps(ORDER).encode())},
    "no prefix": {"X-Stackflow-Signature": sign(HOOK_SECRET, json.dumps(ORDER).encode())[7:]},
    "garbage": {"X-Stackflow-Signature": "sha256=zz"},
}


@pytest.mark.parametrize("case", sorted(BAD_SIGNATURES))
def test_a_bad_signature_is_401_and_starts_nothing(
    client: httpx.Client, engine: Engine, hook_secret: str, case: str
) -> None:
    before = count(engine)
    reply = client.post("/hooks/order-hook", json=ORDER, headers=BAD_SIGNATURES[case])
    assert_error(reply, 401, "Missing or wrong signature: send X-Stackflow-Signature: sha256=")
    assert count(engine) == before


def test_an_unset_secret_is_401_and_starts_nothing(
    client: httpx.Client, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ORDER_HOOK_SECRET", raising=False)
    before = count(engine)
    body = json.dumps(ORDER).encode()
    for secret in ("", HOOK_SECRET):
        reply = client.post("/hooks/order-hook", content=body, headers=signed(body, secret))
        assert_error(reply, 401, "Missing or wrong signature")
    monkeypatch.setenv("ORDER_HOOK_SECRET", "")
    assert (
        client.post("/hooks/order-hook", content=body, headers=signed(body, "")).status_code == 401
    )
    assert count(engine) == before


def test_an_idempotency_key_returns_the_same_execution(
    client: httpx.Client, engine: Engine, hook_secret: str
) -> None:
    body = json.dumps(ORDER).encode()
    headers = {**signed(body), "Idempotency-Key": "delivery-1"}
    first = client.post("/hooks/order-hook", content=body, headers=headers)
    before = count(engine)
    again = client.post("/hooks/order-hook", content=body, headers=headers)
    assert (first.status_code, again.status_code) == (202, 202)
    assert first.json() == again.json()
    assert count(engine) == before
    other = client.post("/hooks/order-hook", content=body, headers=signed(body))
    assert other.json() != first.json()


def test_args_function_of_body_and_headers(
    client: httpx.Client, engine: Engine, project: Project, hook_secret: str
) -> None:
    body = json.dumps({"gate": project.ids["gate"], "extra": 1}).encode()
    headers = {**signed(body), "X-Sender": "warehouse"}
    reply = client.post("/hooks/restock-hook", content=body, headers=headers)
    assert reply.status_code == 202
    execution = engine.get_execution(reply.json()["executionId"])
    assert execution.arg == {"gate": project.ids["gate"], "by": "warehouse"}
    broken = b'{"no": "gate"}'
    refused = client.post("/hooks/restock-hook", content=broken, headers=signed(broken))
    assert_error(refused, 400, "Webhook 'restock-hook' args function failed: 'gate'")


def test_bad_requests(client: httpx.Client, engine: Engine, hook_secret: str) -> None:
    before = count(engine)
    assert_error(client.post("/hooks/nope", json=ORDER), 404, "Unknown webhook 'nope'.")
    body = b'{"orderId": '
    assert_error(
        client.post("/hooks/order-hook", content=body, headers=signed(body)), 400, "Invalid JSON"
    )
    array = b"[1]"
    reply = client.post("/hooks/order-hook", content=array, headers=signed(array))
    assert_error(reply, 400, "must be a JSON object")
    assert_error(client.get("/hooks/order-hook"), 405, "GET is not supported")
    assert count(engine) == before


def test_webhooks_are_listed(client: httpx.Client, hook_secret: str) -> None:
    assert client.get("/api/webhooks").json() == [
        {
            "name": "order-hook",
            "path": "/hooks/order-hook",
            "workflow": "order-processing",
            "machineUser": "admin",
            "secretEnv": "ORDER_HOOK_SECRET",
            "secretSet": True,
        },
        {
            "name": "restock-hook",
            "path": "/hooks/restock-hook",
            "workflow": "restock",
            "machineUser": "admin",
            "secretEnv": "ORDER_HOOK_SECRET",
            "secretSet": True,
        },
    ]

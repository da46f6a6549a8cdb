"""The app mounted under a prefix in a FastAPI app: the example of docs/dashboard.md, driven."""

from __future__ import annotations

import json
import runpy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from test_events import listening
from web_helpers import HOOK_SECRET, LiveServer, Project

from stackflow.definitions.webhooks import sign

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "fastapi" / "main.py"
TOKEN = "mounted-token"
BEARER = {"Authorization": f"Bearer {TOKEN}"}


def test_the_docs_show_the_example() -> None:
    docs = (REPO / "docs" / "dashboard.md").read_text(encoding="utf-8")
    code = EXAMPLE.read_text(encoding="utf-8")
    assert code.split('"""\n\n', 1)[1] in docs


@pytest.fixture
def mounted(project: Project, monkeypatch: pytest.MonkeyPatch, hook_secret: str) -> Iterator[str]:
    monkeypatch.setenv("STACKFLOW_CONFIG", str(project.config))
    monkeypatch.setenv("STACKFLOW_TOKEN", TOKEN)
    example: dict[str, Any] = runpy.run_path(str(EXAMPLE))
    with LiveServer(example["app"]) as live:
        yield live.url
    example["engine"].close()


def test_mounted_under_a_prefix(mounted: str, project: Project) -> None:
    with httpx.Client(base_url=mounted, timeout=10) as client:
        assert client.get("/health").json() == {"status": "ok"}
        assert client.get("/workflows", follow_redirects=False).status_code in (307, 308)
        page = client.get("/workflows/")
        assert page.status_code == 200 and 'src="static/main.js"' in page.text
        assert client.get("/workflows/static/main.js").status_code == 200
        assert client.get("/workflows/api/executions").status_code == 401
        listed = client.get("/workflows/api/executions", headers=BEARER).json()
        assert project.failed in [execution["id"] for execution in listed]
        resumed = client.post(f"/workflows/api/executions/{project.failed}/resume", headers=BEARER)
        assert resumed.json() == {"executionId": project.failed}
        missing = client.get("/workflows/api/nothing", headers=BEARER)
        assert missing.json() == {"error": "No API endpoint at /workflows/api/nothing."}


def test_webhooks_and_events_under_a_prefix(mounted: str, project: Project) -> None:
    body = json.dumps({"orderId": "o5", "customerId": "c5"}).encode()
    headers = {"X-Stackflow-Signature": sign(HOOK_SECRET, body)}
    with listening(f"{mounted}/workflows/api/events", BEARER) as listener:
        reply = httpx.post(f"{mounted}/workflows/hooks/order-hook", content=body, headers=headers)
        assert reply.status_code == 202
        listener.wait_for(reply.json()["executionId"], "PENDING")

"""Web fixtures: an example project with executions in every state, and its app served live."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from web_helpers import (
    HOOK_SECRET,
    HOOK_SECRET_VARIABLE,
    SCRIPT_TEXT,
    TOKEN,
    LiveServer,
    Project,
    write_project,
)

from stackflow import Engine
from stackflow.web import create_app


@pytest.fixture
def project(tmp_path: Path) -> Project:
    """Executions, oldest first: SUCCESS (a <script> in its logs), FAILED, a FAILED restock,
    a WAITING approval, and a PENDING order (the newest)."""
    root = write_project(tmp_path / "shop")
    found = Project(root)
    with Engine.from_config(root / "stackflow.toml") as engine:
        order = {"orderId": "o1", "customerId": SCRIPT_TEXT}
        found.succeeded = _run(engine, "order-processing", order, "SUCCESS")
        found.failed = _run(engine, "order-processing", {"orderId": "o2"}, "FAILED")
        gate = str(tmp_path / "gate")
        found.ids["restock"] = _run(engine, "restock", {"gate": gate}, "FAILED")
        found.ids["waiting"] = _run(engine, "approval", {"amount": 120}, "WAITING")
        found.pending = engine.start("order-processing", {"orderId": "o3", "customerId": "c3"})
    found.ids["gate"] = gate
    return found


def _run(engine: Engine, workflow: str, arg: dict[str, object], status: str) -> str:
    execution_id = engine.start(workflow, arg, invoker="admin")
    assert engine.wait(execution_id, timeout=30).status == status
    return execution_id


@pytest.fixture
def engine(project: Project) -> Iterator[Engine]:
    """An engine of the project, closed after the test."""
    with Engine.from_config(project.config) as opened:
        yield opened


@pytest.fixture
def hook_secret(monkeypatch: pytest.MonkeyPatch) -> str:
    """The webhooks' secret, set in this process's environment."""
    monkeypatch.setenv(HOOK_SECRET_VARIABLE, HOOK_SECRET)
    return HOOK_SECRET


@pytest.fixture
def server(engine: Engine) -> Iterator[str]:
    """The app without a token, served on loopback; its base URL."""
    with LiveServer(create_app(engine)) as live:
        yield live.url


@pytest.fixture
def client(server: str) -> Iterator[httpx.Client]:
    """An HTTP client of the served app."""
    with httpx.Client(base_url=server, timeout=10) as opened:
        yield opened


@pytest.fixture
def token_client(engine: Engine) -> Iterator[httpx.Client]:
    """An HTTP client (sending no token) of the app served with TOKEN."""
    with (
        LiveServer(create_app(engine, TOKEN)) as live,
        httpx.Client(base_url=live.url, timeout=10) as opened,
    ):
        yield opened

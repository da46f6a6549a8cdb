"""Dashboard fixtures: an example project with executions, and its dashboard on a free port."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from ui_helpers import SCRIPT_TEXT, Project, write_template

from stackflow.engine.engine import Engine
from stackflow.ui.server import DashboardServer, create_server


@pytest.fixture
def project(tmp_path: Path) -> Project:
    """One SUCCESS execution (whose logs hold a <script>), one FAILED, one PENDING (newest)."""
    root = write_template(tmp_path / "shop")
    with Engine.from_config(root / "stackflow.toml") as engine:
        order = {"orderId": "o1", "customerId": SCRIPT_TEXT}
        succeeded = engine.start("order-processing", order, invoker="admin")
        assert engine.wait(succeeded, timeout=30).status == "SUCCESS"
        failed = engine.start("order-processing", {"orderId": "o2"}, invoker="admin")
        assert engine.wait(failed, timeout=30).status == "FAILED"
        pending = engine.start("order-processing", {"orderId": "o3", "customerId": "c3"})
    return Project(root, succeeded, failed, pending)


@pytest.fixture
def dashboard(project: Project) -> Iterator[str]:
    """The project's dashboard served from a thread; its base URL."""
    engine = Engine.from_config(project.config)
    server: DashboardServer = create_server(engine, "127.0.0.1", 0)
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()
    try:
        yield server.url
    finally:
        server.shutdown()
        server.server_close()
        serving.join(timeout=5)
        engine.close()

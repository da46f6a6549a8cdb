"""Fixtures for the command-line tests: a fresh project and a way to run commands in it."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_helpers import Run, use_database, write_template
from commands import Result, command_env, stackflow


@pytest.fixture
def project(tmp_path: Path, store_url: str) -> Path:
    """A fresh order-processing project (as `stackflow init` writes it) with its own store.

    Every test using it runs on SQLite and on PostgreSQL (`store_url`).
    """
    root = write_template(tmp_path / "shop")
    if not store_url.startswith("sqlite:"):
        use_database(root, store_url)
    return root


@pytest.fixture
def run(project: Path) -> Run:
    """Run `stackflow` in the `project` directory."""

    def run_here(*args: str, **env: str) -> Result:
        return stackflow(project, *args, env=command_env(**env) if env else None)

    return run_here

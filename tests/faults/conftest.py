"""Fault-injection fixtures: projects whose workers are killed after each test."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from faultkit import FaultProject, make_project


@pytest.fixture
def fault_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[str, float], FaultProject]]:
    """Build a fault project on a store URL; its workers are killed after the test."""
    made: list[FaultProject] = []

    def make(database: str, lease_seconds: float) -> FaultProject:
        project = make_project(tmp_path / f"project{len(made)}", database, lease_seconds)
        monkeypatch.setenv("FAULTS_DIR", str(project.marks))
        for name in [k for k in os.environ if k.startswith("STACKFLOW_") and "TEST" not in k]:
            monkeypatch.delenv(name)
        made.append(project)
        return project

    yield make
    for project in made:
        project.stop_all()

"""Testing kit: the `engine` pytest fixture and helpers to run workflows and check their jobs."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from stackflow.definitions.workflows import Workflow
from stackflow.engine.engine import Engine
from stackflow.records import Execution


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    """An Engine on a fresh SQLite file, closed after the test."""
    with Engine(f"sqlite:///{tmp_path / 'stackflow-state.db'}") as fresh:
        yield fresh


def run_workflow(
    engine: Engine,
    workflow: Workflow,
    arg: Any = None,
    *,
    invoker: str | Mapping[str, Any] | None = None,
    timeout: float | None = 60.0,
) -> Execution:
    """Start `workflow` and run it in this process to its end; return the execution."""
    execution_id = engine.start(workflow, arg, invoker=invoker)
    return engine.wait(execution_id, timeout=timeout, run_here=True)


def job_statuses(execution: Execution) -> list[tuple[str, str]]:
    """(stacked job name, status) of every job execution, oldest first."""
    return [(job.stacked_job_name, str(job.status)) for job in execution.job_executions]


def assert_job_executions(execution: Execution, expected: Sequence[tuple[str, str]]) -> None:
    """Assert the execution's job executions are exactly `expected` (name, status) pairs."""
    found = job_statuses(execution)
    assert found == list(expected), f"job executions were {found}, expected {list(expected)}"

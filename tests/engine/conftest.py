"""Engine test fixtures: an engine factory on a fresh store."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from stackflow.definitions import Workflow
from stackflow.executions import Engine

MakeEngine = Callable[..., Engine]


@pytest.fixture
def make_engine(sqlite_url: str) -> Iterator[MakeEngine]:
    """Build engines on one fresh store; all are closed after the test."""
    engines: list[Engine] = []

    def make(*workflows: Workflow, **options: Any) -> Engine:
        engine = Engine(sqlite_url, workflows, **options)
        engines.append(engine)
        return engine

    yield make
    for engine in engines:
        engine.close()

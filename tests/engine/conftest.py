"""Engine test fixtures: an engine factory on a fresh store of each backend."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from stackflow.definitions.workflows import Workflow
from stackflow.engine.engine import Engine

MakeEngine = Callable[..., Engine]


@pytest.fixture
def make_engine(store_url: str) -> Iterator[MakeEngine]:
    """Build engines on one fresh store (each test runs on SQLite and on PostgreSQL)."""
    engines: list[Engine] = []

    def make(*workflows: Workflow, **options: Any) -> Engine:
        engine = Engine(store_url, workflows, **options)
        engines.append(engine)
        return engine

    yield make
    for engine in engines:
        engine.close()

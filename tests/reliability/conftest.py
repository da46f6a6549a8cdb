"""Fixtures for the reliability regression tests: worker processes killed after each test."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from reliability_kit import Workers


@pytest.fixture
def workers() -> Iterator[Workers]:
    """Start `stackflow worker` processes; all are killed (by pid) after the test."""
    started = Workers()
    yield started
    started.stop_all()


@pytest.fixture(autouse=True)
def _no_stackflow_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [k for k in os.environ if k.startswith("STACKFLOW_") and "TEST" not in k]:
        monkeypatch.delenv(name)

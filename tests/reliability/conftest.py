"""Fixtures for the reliability regression tests: worker processes killed after each test."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

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


@pytest.fixture
def read_only_file() -> Iterator[Callable[[Path], None]]:
    """Make one file read-only for this process (immutable as root), undone afterwards."""
    undo: list[Callable[[], object]] = []

    def apply(path: Path) -> None:
        if os.geteuid() != 0:
            path.chmod(0o444)
            undo.append(lambda: path.chmod(0o644))
            return
        done = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True)
        if done.returncode != 0:
            pytest.skip(f"cannot make a file read-only for root here: {done.stderr.strip()}")
        undo.append(lambda: subprocess.run(["chattr", "-i", str(path)], check=True))

    yield apply
    for step in reversed(undo):
        step()

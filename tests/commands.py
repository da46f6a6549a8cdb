"""Running the real `stackflow` command in tests: its environment, its result, waiting on it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

T = TypeVar("T")

COMMAND_SECONDS = 60.0
CLEARED_VARIABLES = (
    "STACKFLOW_CONFIG",
    "STACKFLOW_DATABASE_URL",
    "STACKFLOW_MACHINE_USER",
    "STACKFLOW_TOKEN",
)
"""The test run's own settings, which would otherwise choose the command's project."""


@dataclass
class Result:
    """A finished `stackflow` command."""

    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)

    def assert_clean(self) -> None:
        """No traceback printed (in JSON output, `error.traceback` is data, not a crash)."""
        assert "Traceback" not in self.stderr, self.stderr
        try:
            json.loads(self.stdout)
        except ValueError:
            assert "Traceback" not in self.stdout, self.stdout

    def one_error_line(self) -> str:
        """The single stderr line of a refused command."""
        self.assert_clean()
        lines = [line for line in self.stderr.splitlines() if line.strip()]
        assert len(lines) == 1, self.stderr
        return lines[0]


def command_env(**extra: str) -> dict[str, str]:
    """This environment without the test run's stackflow settings, unbuffered, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if k not in CLEARED_VARIABLES}
    env.update(PYTHONUNBUFFERED="1", **extra)
    return env


def stackflow(
    cwd: Path,
    *args: str,
    stdin: str | None = None,
    env: dict[str, str] | None = None,
    **variables: str,
) -> Result:
    """Run `python -m stackflow ARGS` in `cwd`, in `env` or else in `command_env(**variables)`."""
    done = subprocess.run(
        [sys.executable, "-m", "stackflow", *args],
        cwd=cwd,
        env=env or command_env(**variables),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=COMMAND_SECONDS,
    )
    return Result(done.returncode, done.stdout, done.stderr)


def wait_until(condition: Callable[[], T], timeout: float, what: str) -> T:
    """Poll `condition` every 50 ms until it is true, and return it; fail naming `what`
    after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not (found := condition()):
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(0.05)
    return found

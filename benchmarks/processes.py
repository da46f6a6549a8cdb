"""The server processes of a measurement (a `stackflow worker`, a DBOS queue server)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

READY_SECONDS = 60.0
STOP_SECONDS = 30.0


@dataclass(frozen=True)
class Serving:
    """A started server process: its id and the line that said it was ready."""

    pid: int
    ready_line: str


def child_environment() -> dict[str, str]:
    """This process's environment without STACKFLOW_* variables (they would override a project)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("STACKFLOW_")}


@contextlib.contextmanager
def serving(
    name: str, command: list[str], *, cwd: Path, log: Path, ready_marker: str
) -> Iterator[Serving]:
    """Run `command` (called `name` in errors) once its log shows the marker, until the block ends.

    The process is stopped with SIGTERM (SIGKILL if it has not exited after 30 s).
    """
    with open(log, "wb") as out:
        process = subprocess.Popen(
            command, cwd=cwd, env=child_environment(), stdout=out, stderr=subprocess.STDOUT
        )
    try:
        yield Serving(process.pid, _wait_until_ready(name, process, log, ready_marker))
    finally:
        _stop(process)


def _wait_until_ready(name: str, process: subprocess.Popen[bytes], log: Path, marker: str) -> str:
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        lines = log.read_text(errors="replace").splitlines()
        found = next((line for line in lines if marker in line), None)
        if found is not None:
            return found
        if process.poll() is not None:
            last = lines[-1] if lines else "no output"
            raise RuntimeError(f"{name} exited {process.returncode}: {last}")
        time.sleep(0.01)
    raise TimeoutError(f"{name} did not get ready within {READY_SECONDS:.0f} s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(STOP_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()

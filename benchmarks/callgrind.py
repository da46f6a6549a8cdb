"""Counting the CPU instructions a Python command executes, with valgrind's callgrind."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

MISSING = "valgrind is not installed: install it (Debian: apt-get install valgrind)"
_COLLECTED = re.compile(r"^==\d+== Collected : (\d+)\s*$", re.MULTILINE)
_ELF_MAGIC = b"\x7fELF"


class CallgrindError(Exception):
    """valgrind, or the interpreter it should run, cannot be used, or a counted run failed."""


@dataclass(frozen=True)
class Counted:
    """What one run under callgrind executed and printed."""

    instructions: int
    stdout: str


def valgrind() -> str:
    """The path of the valgrind command."""
    found = shutil.which("valgrind")
    if found is None:
        raise CallgrindError(MISSING)
    return found


def version() -> str:
    """valgrind's version, as `valgrind --version` prints it ("valgrind-3.19.0")."""
    done = subprocess.run([valgrind(), "--version"], capture_output=True, text=True, check=False)
    return done.stdout.strip() or "valgrind (unknown version)"


def real_python() -> str:
    """This interpreter's binary: valgrind must run it, not a launcher script (pyenv's shim).

    A virtual environment's `python` is a link to the binary; it is run by that name, so
    the interpreter still finds the environment beside it.
    """
    path = sys.executable
    try:
        with open(path, "rb") as binary:
            magic = binary.read(len(_ELF_MAGIC))
    except OSError as error:
        raise CallgrindError(f"cannot read the Python binary {path}: {error.strerror}") from None
    if magic != _ELF_MAGIC:
        raise CallgrindError(f"{path} is not an ELF binary: run this with the real interpreter")
    return path


def collected(stderr: str) -> int:
    """The instruction count of callgrind's `==PID== Collected : N` line."""
    found = _COLLECTED.findall(stderr)
    if len(found) != 1:
        raise CallgrindError(f"no callgrind total in the output: {_last_line(stderr)}")
    return int(found[0])


def _last_line(stderr: str) -> str:
    """The command's own last line of stderr (valgrind's lines start with `==PID==`)."""
    lines = [line for line in stderr.splitlines() if line.strip() and not line.startswith("==")]
    return (lines or ["no output"])[-1][:160]


def count(
    arguments: list[str], *, cwd: Path, env: dict[str, str], timeout_seconds: float
) -> Counted:
    """Run `python arguments...` under callgrind (no profile file) and count its instructions."""
    command = [valgrind(), "--tool=callgrind", "--callgrind-out-file=/dev/null"]
    command += [real_python(), *arguments]
    try:
        done = subprocess.run(
            command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout_seconds
        )
    except subprocess.TimeoutExpired:
        raise CallgrindError(f"timed out after {timeout_seconds:.0f} s") from None
    if done.returncode != 0:
        raise CallgrindError(f"exit {done.returncode}: {_last_line(done.stderr)}")
    return Counted(collected(done.stderr), done.stdout)

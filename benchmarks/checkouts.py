"""The stackflow source trees measured: this one, and a baseline commit checked out beside it.

Every measurement runs `python -m benchmarks.run_one` with its working
directory in a harness directory that holds only a link to this `benchmarks`
package, and PYTHONPATH set to the stackflow tree of its row, so the
`stackflow` it imports (and the `stackflow worker` processes it starts) come
from that tree and nowhere else.
"""

from __future__ import annotations

import contextlib
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


class CheckoutError(Exception):
    """A baseline commit could not be checked out."""


@dataclass(frozen=True)
class Baseline:
    """A commit checked out into a temporary git worktree."""

    label: str
    commit: str
    path: Path


def _git(*args: str) -> str:
    try:
        done = subprocess.run(
            ["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=False
        )
    except OSError as error:
        raise CheckoutError(f"git is not available: {error}") from None
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise CheckoutError(f"git {args[0]} failed: {reason}")
    return done.stdout.strip()


def describe_tree() -> str:
    """This tree's short commit, and whether it has uncommitted changes."""
    try:
        commit = _git("rev-parse", "--short", "HEAD")
        dirty = _git("status", "--porcelain", "--untracked-files=no")
    except CheckoutError:
        return "unknown commit"
    return f"{commit} with uncommitted changes" if dirty else commit


@contextlib.contextmanager
def harness() -> Iterator[Path]:
    """A temporary directory holding only a link to this `benchmarks` package."""
    with tempfile.TemporaryDirectory(prefix="stackflow-bench-harness-") as tmp:
        (Path(tmp) / "benchmarks").symlink_to(ROOT / "benchmarks", target_is_directory=True)
        yield Path(tmp)


@contextlib.contextmanager
def baseline(revision: str) -> Iterator[Baseline]:
    """Check `revision` out into a temporary git worktree, removed afterwards."""
    try:
        commit = _git("rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}")
    except CheckoutError:
        raise CheckoutError(f"'{revision}' is not a commit of {ROOT}") from None
    label = _git("rev-parse", "--short", commit)
    with tempfile.TemporaryDirectory(prefix="stackflow-baseline-") as tmp:
        path = Path(tmp) / f"stackflow@{label}"
        _git("worktree", "add", "--detach", "--quiet", str(path), commit)
        try:
            if not (path / "stackflow" / "__init__.py").is_file():
                raise CheckoutError(f"commit {label} has no stackflow package")
            yield Baseline(label, commit, path)
        finally:
            _git("worktree", "remove", "--force", str(path))

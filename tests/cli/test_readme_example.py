"""The README's quick-start example: CI runs it verbatim, and it works here."""

from __future__ import annotations

import shlex
from pathlib import Path

from commands import command_env, stackflow

REPO = Path(__file__).resolve().parents[2]
INSTALL = "pip install -e . && "


def quick_start_lines() -> list[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    block = text.split("## Quick start", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    return block.splitlines()


def test_quick_start_has_the_example_then_the_test_command() -> None:
    example, tests = quick_start_lines()
    assert example.startswith(INSTALL + "stackflow workflow start order-processing ")
    assert tests == "pip install -e '.[test]' && scripts/test"
    assert example in (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines()


def test_quick_start_example_runs(tmp_path: Path) -> None:
    example = quick_start_lines()[0]
    args = shlex.split(example.removeprefix(INSTALL))[1:]  # drop the `stackflow` word
    env = command_env(STACKFLOW_DATABASE_URL=f"sqlite:///{tmp_path / 'state.db'}")

    done = stackflow(REPO, *args, env=env)

    assert done.code == 0, done.stderr
    assert "SUCCESS" in done.stdout
    assert '"customerEmail": "c1@example.com"' in done.stdout
    assert "--- process-order/send-notification ---" in done.stdout

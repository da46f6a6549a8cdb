"""`db copy` from a missing source creates nothing and never empties the destination."""

from __future__ import annotations

from pathlib import Path

from commands import stackflow
from reliability_kit import store_rows, write_project

FLOW = """
from stackflow import create_workflow, create_workflow_job

def _hello(input):
    return {"hello": input.get("name", "world")}

hello = create_workflow_job(name="hello", body=_hello)
workflow = create_workflow(name="hello", main_job=hello)
"""


def _destination_with_executions(root: Path, url: str) -> int:
    write_project(root, url, {"hello.py": FLOW})
    for name in ("a", "b"):
        done = stackflow(
            root, "workflow", "start", "hello", "-m", "admin", "-a", f'{{"name": "{name}"}}', "-W"
        )
        assert done.code == 0, done.stderr
    return len(store_rows(url, "SELECT id FROM executions"))


def test_force_copy_from_a_missing_source_deletes_nothing(tmp_path: Path, store_url: str) -> None:
    held = _destination_with_executions(tmp_path / "dst", store_url)
    missing = tmp_path / "typo-missing.db"

    done = stackflow(tmp_path, "db", "copy", "--force", f"sqlite:///{missing}", store_url)

    assert len(store_rows(store_url, "SELECT id FROM executions")) == held == 2
    assert not missing.exists(), "the missing source was created"
    assert done.code == 1, done.stderr
    line = done.one_error_line()
    assert str(missing) in line and "Copied" not in done.stderr


def test_copy_from_a_missing_source_is_an_error(tmp_path: Path, sqlite_url: str) -> None:
    missing = tmp_path / "typo-missing.db"

    done = stackflow(tmp_path, "db", "copy", f"sqlite:///{missing}", sqlite_url)

    assert not missing.exists(), "the missing source was created"
    assert done.code == 1, done.stderr
    assert str(missing) in done.one_error_line()

"""Limits and messages: each careless input gets one clear line and its exit code."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

from commands import Result, stackflow
from reliability_kit import store_rows, write_project

FLOW = """
from stackflow import create_workflow, create_workflow_job

def _echo(input):
    return input

echo = create_workflow_job(name="echo", body=_echo)
workflow = create_workflow(name="echo", main_job=echo)
"""

START = ("workflow", "start", "echo", "-m", "admin")
RAW_NAMES = ("Error:", "OperationalError", "UnicodeEncodeError", "OverflowError", "Errno")


def _project(root: Path, url: str, extra: str = "") -> Path:
    return write_project(root, url, {"echo.py": FLOW}, extra)


def _count(url: str) -> int:
    try:
        return len(store_rows(url, "SELECT id FROM executions"))
    except Exception:  # no store yet
        return 0


def _refused(done: Result, codes: tuple[int, ...]) -> str:
    """The one error line of a refused command, without a raw exception name."""
    assert done.code in codes, (done.code, done.stdout, done.stderr)
    line = done.one_error_line()
    assert not any(raw in line.removeprefix("Error:") for raw in RAW_NAMES), line
    return line


def _arg_of(root: Path, started: Result) -> object:
    """The stored argument of the execution `started` created."""
    shown = stackflow(root, "workflow", "executions", started.json()["executionId"], "-j")
    return shown.json()["arg"]


def test_an_argument_over_the_payload_limit_is_refused(tmp_path: Path, store_url: str) -> None:
    root = _project(tmp_path, store_url, "[engine]\npayload_limit_bytes = 1000\n")
    big = json.dumps({"text": "x" * 3000})

    done = stackflow(root, *START, "-a", big)

    assert "payload limit" in _refused(done, (2,))
    assert _count(store_url) == 0


def test_an_argument_from_a_file(tmp_path: Path, store_url: str) -> None:
    root = _project(tmp_path, store_url)
    (root / "arg.json").write_text(json.dumps({"text": "y" * 300_000}))

    done = stackflow(root, *START, "-a", "@arg.json", "-j")

    assert done.code == 0, done.stderr
    assert _arg_of(root, done) == {"text": "y" * 300_000}


def test_an_argument_from_stdin(tmp_path: Path, store_url: str) -> None:
    root = _project(tmp_path, store_url)

    done = stackflow(root, *START, "-a", "-", "-j", stdin=json.dumps({"from": "stdin"}))

    assert done.code == 0, done.stderr
    assert _arg_of(root, done) == {"from": "stdin"}


def test_both_arg_options_together_is_a_usage_error(tmp_path: Path, sqlite_url: str) -> None:
    root = _project(tmp_path, sqlite_url)

    done = stackflow(root, *START, "-a", '{"a": 1}', "-g", '{"b": 2}')

    _refused(done, (2,))
    assert _count(sqlite_url) == 0


def test_a_lone_surrogate_in_the_argument(tmp_path: Path, store_url: str) -> None:
    root = _project(tmp_path, store_url)

    done = stackflow(root, *START, "-a", '{"text": "\\ud800"}')

    _refused(done, (2,))
    assert _count(store_url) == 0


def test_invalid_utf8_in_the_argument(tmp_path: Path, sqlite_url: str) -> None:
    root = _project(tmp_path, sqlite_url)

    done = stackflow(root, *START, "-a", os.fsdecode(b'{"text": "\xff"}'))

    _refused(done, (2,))
    assert _count(sqlite_url) == 0


def test_an_absurd_interval(tmp_path: Path, store_url: str) -> None:
    root = _project(tmp_path, store_url)

    done = stackflow(root, *START, "-a", "{}", "-W", "-i", "99999999999999999999999s")

    _refused(done, (2,))
    assert _count(store_url) == 0


def test_a_read_only_store_file(
    tmp_path: Path, sqlite_url: str, read_only_file: Callable[[Path], None]
) -> None:
    root = _project(tmp_path / "project", sqlite_url)
    assert stackflow(root, *START, "-a", "{}").code == 0
    before = _files(tmp_path)
    read_only_file(tmp_path / "state.db")  # its directory stays writable

    done = stackflow(root, *START, "-a", "{}")

    assert "read-only" in _refused(done, (1, 2))
    assert _files(tmp_path) == before


def _files(directory: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in directory.iterdir() if path.is_file()}


def test_init_into_an_impossible_path(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a directory")

    done = stackflow(tmp_path, "init", "a-file/project")

    assert "a-file" in _refused(done, (1, 2))


def test_a_database_path_under_a_file(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a directory")
    root = _project(tmp_path / "project", f"sqlite:///{(tmp_path / 'a-file' / 'state.db')}")

    done = stackflow(root, *START, "-a", "{}")

    line = _refused(done, (1, 2))
    assert "a-file" in line and "not a directory" in line


def test_copying_a_store_onto_itself(tmp_path: Path) -> None:
    root = _project(tmp_path, "sqlite:///state.db")
    assert stackflow(root, *START, "-a", "{}").code == 0

    done = stackflow(root, "db", "copy", "--force", "sqlite:///state.db", "sqlite:///./state.db")

    assert "same" in _refused(done, (1, 2))
    assert _count(f"sqlite:///{root / 'state.db'}") == 1


def test_an_unsupported_database_url_is_a_configuration_error(tmp_path: Path) -> None:
    root = _project(tmp_path, "mysql://localhost/app")

    done = stackflow(root, "workflow", "executions")

    assert "mysql" in _refused(done, (2,))


def test_resume_of_a_finished_execution_names_its_status(tmp_path: Path, store_url: str) -> None:
    root = _project(tmp_path, store_url)
    finished = stackflow(root, *START, "-a", "{}", "-W", "-j")
    assert finished.code == 0, finished.stderr
    execution_id = finished.json()["id"]

    done = stackflow(root, "workflow", "resume", execution_id)

    line = _refused(done, (1,))
    assert execution_id in line and "SUCCESS" in line


# Found by the property tests (tests/properties/test_cli_arguments.py), reproduced here
# through the real command.


def test_a_deeply_nested_argument(tmp_path: Path, sqlite_url: str) -> None:
    root = _project(tmp_path, sqlite_url)

    done = stackflow(root, *START, "-a", '{"a": ' + "[" * 5000 + "]" * 5000 + "}")

    _refused(done, (0, 2))
    assert _count(sqlite_url) == (1 if done.code == 0 else 0)


def test_an_argument_with_a_huge_integer(tmp_path: Path, sqlite_url: str) -> None:
    root = _project(tmp_path, sqlite_url)

    done = stackflow(root, *START, "-a", '{"n": ' + "7" * 5000 + "}")

    _refused(done, (0, 2))


def test_an_execution_id_with_invalid_utf8(tmp_path: Path, store_url: str) -> None:
    root = _project(tmp_path, store_url)
    execution_id = os.fsdecode(b"id-\xff")

    done = stackflow(root, "workflow", "executions", execution_id)

    assert "not found" in _refused(done, (1,))

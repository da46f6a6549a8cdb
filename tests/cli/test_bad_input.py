"""Careless input: one line on stderr, the exit code of DESIGN.md, no traceback, store unchanged."""

from __future__ import annotations

import sqlite3
import uuid
from contextlib import closing
from pathlib import Path

import pytest
from cli_helpers import ORDER, Run, execution_count

SQLITE_ONLY = pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)  # about the file

START = ("workflow", "start", "order-processing", "-m", "admin")


def assert_fails(run: Run, project: Path, code: int, *args: str) -> str:
    before = execution_count(project)
    done = run(*args)
    assert done.code == code, (done.stdout, done.stderr)
    assert done.stdout == ""
    assert execution_count(project) == before
    return done.one_error_line()


def test_malformed_json_argument(run: Run, project: Path) -> None:
    line = assert_fails(run, project, 2, *START, "-a", '{"orderId": ')
    assert line.startswith("Error: Invalid JSON in --arg: ")


def test_argument_that_is_not_an_object(run: Run, project: Path) -> None:
    line = assert_fails(run, project, 2, *START, "-a", "[1]", "-W")
    assert "must be a JSON object" in line and "got list" in line


def test_unknown_workflow(run: Run, project: Path) -> None:
    line = assert_fails(run, project, 2, "workflow", "start", "nope", "-m", "admin", "-a", ORDER)
    assert line == "Error: Unknown workflow 'nope'. Known workflows: order-processing."


def test_unknown_machine_user(run: Run, project: Path) -> None:
    line = assert_fails(
        run, project, 2, "workflow", "start", "order-processing", "-m", "bob", "-a", ORDER
    )
    assert line.startswith("Error: Unknown machine user 'bob'. Known machine users: admin")


def test_unknown_status(run: Run, project: Path) -> None:
    line = assert_fails(run, project, 2, "workflow", "executions", "-s", "done")
    assert line == (
        "Error: Invalid status: done. Valid values: PENDING, PENDING_RESUME, PENDING_RETRY, "
        "RUNNING, WAITING, SUCCESS, FAILED, CANCELED"
    )


@pytest.mark.parametrize("interval", ["3", "1.5s", "0s"])
def test_bad_interval(run: Run, project: Path, interval: str) -> None:
    line = assert_fails(run, project, 2, *START, "-a", ORDER, "-W", "-i", interval)
    assert line.startswith(f"Error: Invalid value for -i/--interval: '{interval}'.")


def test_bad_timeout(run: Run, project: Path) -> None:
    line = assert_fails(run, project, 2, "workflow", "wait", str(uuid.uuid4()), "-t", "10 min")
    assert line.startswith("Error: Invalid value for -t/--timeout: '10 min'.")


@pytest.mark.parametrize("execution_id", [str(uuid.uuid4()), "not-an-id"])
@pytest.mark.parametrize("command", ["executions", "resume", "wait", "cancel"])
def test_execution_not_found(run: Run, project: Path, command: str, execution_id: str) -> None:
    line = assert_fails(run, project, 1, "workflow", command, execution_id)
    assert line == f"Error: Execution '{execution_id}' not found."


def test_execution_not_found_while_waiting(run: Run, project: Path) -> None:
    missing = str(uuid.uuid4())
    line = assert_fails(run, project, 1, "workflow", "executions", missing, "-W", "-i", "10ms")
    assert line == f"Error: Execution '{missing}' not found."


def test_config_that_does_not_load(run: Run, project: Path) -> None:
    (project / "stackflow.toml").write_text('name = "shop"\ndatabase = 3\n')
    line = assert_fails(run, project, 2, *START, "-a", ORDER)
    assert line.startswith("Error: stackflow.toml:") and "database" in line


def test_no_config_found(tmp_path: Path) -> None:
    from commands import stackflow

    done = stackflow(tmp_path, "workflow", "list")
    assert done.code == 2
    assert "No stackflow.toml found" in done.one_error_line()


def test_workflow_file_that_does_not_import(run: Run, project: Path) -> None:
    (project / "workflows" / "jobs" / "fetch_customer.py").write_text("import no_such_module\n")
    line = assert_fails(run, project, 2, *START, "-a", ORDER)
    assert "fetch_customer.py: cannot import: ModuleNotFoundError" in line


def _store(project: Path) -> Path:
    path = project / ".stackflow" / "state.db"
    path.parent.mkdir(exist_ok=True)
    return path


@SQLITE_ONLY
def test_database_file_that_is_not_a_database(run: Run, project: Path) -> None:
    _store(project).write_bytes(b"this is not a database, just some text " * 20)
    line = assert_fails(run, project, 1, *START, "-a", ORDER, "-W")
    assert "is not a stackflow store" in line
    assert _store(project).read_bytes().startswith(b"this is not a database")


@SQLITE_ONLY
def test_database_of_another_application(run: Run, project: Path) -> None:
    with closing(sqlite3.connect(_store(project))) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
    line = assert_fails(run, project, 1, "workflow", "executions")
    assert "is not a stackflow store (it holds other tables)" in line


@SQLITE_ONLY
def test_store_written_by_a_newer_stackflow(run: Run, project: Path) -> None:
    assert run("workflow", "list").code == 0  # creates the store
    with closing(sqlite3.connect(_store(project))) as conn:
        conn.execute("UPDATE stackflow_meta SET value = '999' WHERE key = 'schema_version'")
        conn.commit()
    line = assert_fails(run, project, 1, *START, "-a", ORDER)
    assert "was written by a newer stackflow" in line


@SQLITE_ONLY
def test_read_only_store(run: Run, project: Path, make_read_only) -> None:
    assert run("workflow", "list").code == 0
    make_read_only(_store(project).parent)
    line = assert_fails(run, project, 1, *START, "-a", ORDER)
    assert "read-only" in line


def test_debug_shows_the_traceback(run: Run, project: Path) -> None:
    done = run("--debug", "workflow", "executions", "missing")
    assert done.code == 1
    assert "Traceback" in done.stderr


@pytest.mark.parametrize("status", ["", ",", " "])
def test_a_status_filter_that_names_no_status(run: Run, project: Path, status: str) -> None:
    line = assert_fails(run, project, 2, "workflow", "executions", "-s", status)
    assert line.startswith(f"Error: Invalid status: {status!r} names no status. Valid values: ")


def test_an_unknown_option_is_one_line(run: Run, project: Path) -> None:
    line = assert_fails(run, project, 2, *START, "--colour", "red")
    assert line == "Error: No such option '--colour'. See 'stackflow workflow start --help'."
    helped = run("workflow", "start", "--help")
    assert helped.code == 0 and helped.stdout.startswith("Usage: stackflow workflow start")


def test_a_missing_argument_is_one_line(run: Run, project: Path) -> None:
    line = assert_fails(run, project, 2, "workflow", "start")
    assert line == "Error: Missing argument 'NAME'. See 'stackflow workflow start --help'."


def test_control_characters_from_the_user_are_escaped(run: Run, project: Path) -> None:
    name = "a\nb\x1bc\u2028d\te"
    line = assert_fails(run, project, 2, "workflow", "start", name, "-m", "admin", "-a", ORDER)
    assert line.startswith("Error: Unknown workflow 'a\\nb\\x1bc\\u2028d\\te'. Known workflows:")

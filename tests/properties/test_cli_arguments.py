"""The CLI's arguments in main(argv): any text gets the documented exit code, one line, no change.

Exit codes (DESIGN section 6): 0 done, 1 not found, 2 a usage error. A refused input leaves
the store as it was.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
from cli_runner import Outcome, executions, invoke
from hypothesis import given, settings
from hypothesis import strategies as st
from values import JSON_OBJECTS, JSON_VALUES, LONE_SURROGATES, NO_SURROGATES

from stackflow.oneline import one_line

FLOW = """
from stackflow import create_workflow, create_workflow_job

def _echo(input):
    return input

echo = create_workflow_job(name="echo", body=_echo)
workflow = create_workflow(name="echo", main_job=echo)
"""

EXAMPLES = settings(max_examples=30)

PLAIN = st.characters(blacklist_categories=("Cs", "Cc"))
FROM_TERMINAL = PLAIN | st.characters(min_codepoint=0xDC80, max_codepoint=0xDCFF)
"""What argv holds: any text, invalid UTF-8 bytes arriving as surrogate escapes."""

ARG_TEXT = (
    st.text(NO_SURROGATES) | JSON_OBJECTS.map(json.dumps) | JSON_VALUES.map(json.dumps)
).filter(lambda text: text != "-")
NOT_AN_OPTION = st.text(PLAIN, min_size=1).filter(lambda text: not text.startswith("-"))


class Project:
    """A project with one workflow, `echo`, and one finished execution."""

    def __init__(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        (root / "workflows").mkdir()
        (root / "workflows" / "echo.py").write_text(FLOW)
        self.database = root / "state.db"
        (root / "stackflow.toml").write_text(
            textwrap.dedent(
                f"""
                name = "properties"
                database = "sqlite:///{self.database.as_posix()}"
                [workflow]
                files = ["workflows/*.py"]
                [machine_users.admin]
                attributes = {{}}
                """
            )
        )
        self.config = str(root / "stackflow.toml")
        done = self.run("workflow", "start", "echo", "-m", "admin", "-a", "{}", "-W", "-j")
        self.finished = json.loads(done.stdout)["id"]

    def run(self, *argv: str) -> Outcome:
        return invoke(*argv, "-c", self.config)

    def start(self, *options: str) -> Outcome:
        return self.run("workflow", "start", "echo", "-m", "admin", *options)

    def refused_or_done(self, outcome: Outcome, before: list[tuple[str, str]]) -> None:
        """Exit 0, or exit 2 with one line and the store as it was."""
        outcome.assert_no_traceback()
        assert outcome.code in (0, 2), outcome
        if outcome.code == 2:
            outcome.error_line()
            assert executions(self.database) == before


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    return Project(tmp_path_factory.mktemp("cli") / "project")


@EXAMPLES
@given(text=ARG_TEXT)
def test_any_argument_is_started_or_refused(project: Project, text: str) -> None:
    before = executions(project.database)

    done = project.start("-a", text, "-j")

    project.refused_or_done(done, before)
    if done.code == 0:
        started = json.loads(done.stdout)["executionId"]
        shown = json.loads(project.run("workflow", "executions", started, "-j").stdout)
        assert shown["arg"] == (json.loads(text) or {})


@EXAMPLES
@given(text=st.text(NO_SURROGATES) | st.from_regex(r"\A[0-9]{1,5}(ms|s|m)\Z"))
def test_any_interval(project: Project, text: str) -> None:
    before = executions(project.database)

    project.refused_or_done(project.start("-a", "{}", "-W", "-i", text, "-j"), before)


@EXAMPLES
@given(text=st.text(NO_SURROGATES) | st.from_regex(r"\A[0-9]{1,5}(ms|s|m|h)\Z"))
def test_any_timeout(project: Project, text: str) -> None:
    before = executions(project.database)

    done = project.run("workflow", "wait", project.finished, "-t", text, "-j")

    project.refused_or_done(done, before)


@EXAMPLES
@given(
    text=st.text(PLAIN)
    | st.lists(st.sampled_from(["success", "FAILED", " Pending "])).map(",".join)
)
def test_any_status_filter(project: Project, text: str) -> None:
    done = project.run("workflow", "executions", "-s", text, "-j")

    project.refused_or_done(done, executions(project.database))
    wanted = {part.strip().upper() for part in text.split(",") if part.strip()}
    if done.code == 0 and wanted:
        assert {row["status"] for row in json.loads(done.stdout)} <= wanted


@EXAMPLES
@given(name=NOT_AN_OPTION)
def test_any_workflow_name(project: Project, name: str) -> None:
    before = executions(project.database)

    done = project.run("workflow", "start", name, "-m", "admin", "-a", "{}", "-j")

    project.refused_or_done(done, before)
    assert (done.code == 0) == (name == "echo")
    if done.code == 2:
        assert done.error_line().startswith(f"Error: Unknown workflow '{one_line(name)}'.")


@EXAMPLES
@given(
    command=st.sampled_from(["executions", "resume", "cancel", "wait"]),
    execution_id=NOT_AN_OPTION,
)
def test_any_execution_id(project: Project, command: str, execution_id: str) -> None:
    before = executions(project.database)

    done = project.run("workflow", command, execution_id)

    assert done.code == 1, done
    assert done.error_line() == f"Error: Execution '{one_line(execution_id)}' not found."
    assert executions(project.database) == before


@EXAMPLES
@given(text=st.from_regex(r"\A[1-9][0-9]{15,30}(ms|s|m)\Z"))
def test_an_absurd_interval(project: Project, text: str) -> None:
    before = executions(project.database)

    project.refused_or_done(project.start("-a", "{}", "-W", "-i", text, "-j"), before)


@EXAMPLES
@given(surrogate=LONE_SURROGATES)
def test_an_argument_with_a_lone_surrogate_is_a_usage_error(
    project: Project, surrogate: str
) -> None:
    before = executions(project.database)
    text = json.dumps({"text": f"a{surrogate}b"})  # as JSON escapes: \\udXXX

    project.refused_or_done(project.start("-a", text), before)


@EXAMPLES
@given(execution_id=st.text(FROM_TERMINAL, min_size=1).filter(lambda t: not t.startswith("-")))
def test_an_execution_id_with_invalid_utf8(project: Project, execution_id: Any) -> None:
    done = project.run("workflow", "executions", execution_id)

    assert done.code == 1, done
    assert "not found" in done.error_line()


@EXAMPLES
@given(
    name=st.text(st.characters(categories=("Cc", "Zl", "Zp")) | PLAIN, min_size=1).filter(
        lambda text: not text.startswith("-")
    )
)
def test_control_characters_stay_on_one_line(project: Project, name: str) -> None:
    done = project.run("workflow", "start", name, "-m", "admin", "-a", "{}")

    assert done.code == 2, done
    assert done.error_line().startswith(f"Error: Unknown workflow '{one_line(name)}'.")


# Found by hypothesis as defects (deep nesting, long integers), fixed since.


@EXAMPLES
@given(depth=st.integers(min_value=1, max_value=20_000))
def test_a_deeply_nested_argument(project: Project, depth: int) -> None:
    before = executions(project.database)
    text = '{"a": ' + "[" * depth + "]" * depth + "}"

    project.refused_or_done(project.start("-a", text), before)


@EXAMPLES
@given(digits=st.integers(min_value=1, max_value=10_000))
def test_an_argument_with_a_huge_integer(project: Project, digits: int) -> None:
    before = executions(project.database)

    project.refused_or_done(project.start("-a", '{"n": ' + "7" * digits + "}"), before)

"""The rules check adds: importable files, calls through ctx.jobs, repeated deps, name grammar."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from stackflow.definitions.names import follows_name_grammar
from stackflow.errors import ProjectLoadError
from stackflow.project.loader import load_project
from stackflow.project.rules import Breach

HEADER = "from stackflow import create_workflow, create_workflow_job, workflow_job\n"


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STACKFLOW_DATABASE_URL", raising=False)
    monkeypatch.delenv("STACKFLOW_CONFIG", raising=False)


def write(root: Path, files: dict[str, str]) -> Path:
    (root / "stackflow.toml").write_text('name = "t"\n', encoding="utf-8")
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root / "stackflow.toml"


def checked(root: Path, files: dict[str, str]) -> list[Breach]:
    return load_project(write(root, files), import_failures_as_breaches=True).breaches


# Files that fail to import -----------------------------------------------------------


def test_each_file_that_fails_to_import_is_a_breach_at_its_line(tmp_path: Path) -> None:
    files = {
        "workflows/a.py": "x = 1\nfrom .helper import value\n",
        "workflows/b.py": "def broken(:\n    pass\n",
        "workflows/c.py": HEADER + 'j = create_workflow_job(name="j", body=lambda: 1)\n',
        "lib/helper.py": "",
        "workflows/helper.py": "# helper\nvalue = 1 / 0\n",
    }
    toml = write(tmp_path, files)
    toml.write_text('[workflow]\nfiles = ["workflows/a.py", "workflows/b.py", "workflows/c.py"]\n')
    breaches = load_project(toml, import_failures_as_breaches=True).breaches
    assert [(b.rule, b.file, b.line) for b in breaches] == [
        ("importable-files", "workflows/a.py", 2),
        ("importable-files", "workflows/b.py", 1),
    ]
    assert breaches[0].message == (
        "cannot import: ZeroDivisionError: division by zero (workflows/helper.py, line 2)"
    )
    assert breaches[1].message.startswith("cannot import: SyntaxError: invalid syntax")


def test_without_asking_a_failed_import_still_stops_the_load(tmp_path: Path) -> None:
    toml = write(tmp_path, {"workflows/a.py": "import no_such_module\n"})
    with pytest.raises(ProjectLoadError, match=r"^workflows/a.py: cannot import: ModuleNotFound"):
        load_project(toml)


# Calls through ctx.jobs --------------------------------------------------------------

DEPS = HEADER + textwrap.dedent("""\
    fetch = create_workflow_job(name="fetch-customer", body=lambda: 1)
    other = create_workflow_job(name="other", body=lambda: 2)
    """)


@pytest.mark.parametrize(
    "body",
    [
        "def main(input, ctx):\n    return ctx.jobs.fetch_customer()\n",
        'def main(input, ctx):\n    return ctx.jobs["fetch-customer"].trigger()\n',
        "async def main(input, context):\n    return await context.jobs.fetch_customer()\n",
        "def main(input, ctx):\n    name = input['job']\n    return ctx.jobs[name]()\n",
        "def main(input):\n    return input.jobs.other\n",
    ],
)
def test_calls_to_deps_and_calls_check_cannot_see_pass(tmp_path: Path, body: str) -> None:
    source = DEPS + body + "job = create_workflow_job(name='main', body=main, deps=[fetch])\n"
    source += "workflow = create_workflow(name='w', main_job=job)\n"
    assert checked(tmp_path, {"workflows/flow.py": source}) == []


@pytest.mark.parametrize(
    ("body", "shown", "line"),
    [
        ("def main(input, ctx):\n    return ctx.jobs.other()\n", "ctx.jobs.other", 5),
        (
            "async def main(input, ctx):\n\n    return await ctx.jobs['other'].start()\n",
            "ctx.jobs['other']",
            6,
        ),
        ("main = (\n    lambda input, ctx: ctx.jobs.other.trigger()\n)\n", "ctx.jobs.other", 5),
    ],
)
def test_a_call_to_a_job_that_is_not_a_dep(
    tmp_path: Path, body: str, shown: str, line: int
) -> None:
    source = DEPS + body + "job = create_workflow_job(name='main', body=main, deps=[fetch])\n"
    source += "workflow = create_workflow(name='w', main_job=job)\n"
    [breach] = checked(tmp_path, {"workflows/flow.py": source})
    assert (breach.rule, breach.file, breach.line) == (
        "called-jobs-are-deps",
        "workflows/flow.py",
        line,
    )
    assert breach.message == (
        f"job 'main' calls {shown} at workflows/flow.py:{line}, but 'other' is not one of its "
        "deps ('fetch-customer'): add that job to the deps of job 'main' (deps=[...])"
    )


# One name twice in deps --------------------------------------------------------------


def test_two_names_for_one_attribute_in_deps_is_a_unique_names_breach(tmp_path: Path) -> None:
    source = HEADER + textwrap.dedent("""\
        ab = create_workflow_job(name="a-b", body=lambda: 1)
        a_b = create_workflow_job(name="a_b", body=lambda: 1)
        top = create_workflow_job(name="top", body=lambda: 1, deps=[ab, a_b])
        """)
    [breach] = checked(tmp_path, {"workflows/flow.py": source})
    assert (breach.rule, breach.line) == ("unique-job-names", 4)
    assert "'a-b' and 'a_b' both map to ctx.jobs.a_b" in breach.message


# Names --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["a", "order-processing", "fetch_customer", "Step2", "send notification", "a" * 64]
)
def test_names_that_follow_the_grammar(name: str) -> None:
    assert follows_name_grammar(name)


@pytest.mark.parametrize(
    "name", ["Bad Name!", "2fast", "-x", "a.b", "a  b", "trailing ", "tab\there", "é", "a" * 65]
)
def test_names_that_do_not(name: str) -> None:
    assert not follows_name_grammar(name)


def test_a_bad_name_is_a_breach_stating_the_grammar(tmp_path: Path) -> None:
    source = HEADER + textwrap.dedent("""\
        j = create_workflow_job(name="fetch.customer", body=lambda: 1)
        workflow = create_workflow(name="orders", main_job=j)
        """)
    [breach] = checked(tmp_path, {"workflows/flow.py": source})
    assert (breach.rule, breach.file, breach.line) == ("valid-names", "workflows/flow.py", 2)
    assert breach.message == (
        "job name 'fetch.customer' is not valid: a name starts with a letter and holds only "
        "letters, digits, '-', '_' and single spaces between words, at most 64 characters; "
        "rename it"
    )

"""The workflow rules: reachability through deps and triggers, and each breach as data."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from stackflow import create_workflow_job, workflow_job
from stackflow.errors import ProjectLoadError
from stackflow.project.loader import load_project
from stackflow.project.reachability import reachable_jobs, triggered_jobs
from stackflow.project.rules import Breach


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STACKFLOW_DATABASE_URL", raising=False)
    monkeypatch.delenv("STACKFLOW_CONFIG", raising=False)


def breaches_of(root: Path, files: dict[str, str]) -> list[Breach]:
    (root / "stackflow.toml").write_text('name = "t"\n', encoding="utf-8")
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return load_project(root / "stackflow.toml").breaches


# Reachability ---------------------------------------------------------------------------

leaf = create_workflow_job(name="leaf", body=lambda: 1)
left = create_workflow_job(name="left", body=lambda: leaf.trigger(), deps=[leaf])
right = create_workflow_job(name="right", body=lambda: leaf.start().result(), deps=[leaf])


@workflow_job("diamond", deps=[left, right])
def diamond() -> int:
    return 0


@workflow_job("ping")
def ping(input: dict) -> object:
    return pong.trigger(input) if input.get("n") else None


@workflow_job("pong")
def pong(input: dict) -> object:
    return ping.trigger({"n": input["n"] - 1})


class _Namespace:
    job = leaf


def test_diamond_visits_each_job_once() -> None:
    assert reachable_jobs(diamond) == [diamond, left, right, leaf]


def test_cycle_terminates() -> None:
    assert reachable_jobs(ping) == [ping, pong]


def test_triggered_jobs_resolve_globals_closures_and_attributes() -> None:
    hidden = create_workflow_job(name="hidden", body=lambda: 2)

    def body(input: dict, ctx: object) -> object:
        started = hidden.start(input)
        _Namespace.job.trigger(input)
        ctx.jobs.something.trigger(input)  # type: ignore[attr-defined]
        unknown_name.trigger(input)  # type: ignore[name-defined]  # noqa: F821
        return started.result()

    job = create_workflow_job(name="outer", body=body)
    assert triggered_jobs(job) == [hidden, leaf]
    assert reachable_jobs(job) == [job, hidden, leaf]


def test_lambda_bodies_only_look_inside_lambdas() -> None:
    assert triggered_jobs(left) == [leaf]


def test_lambda_among_call_arguments() -> None:
    # fmt: off
    job = create_workflow_job(
        name="fragment", body=lambda input: right.trigger(input)
    )
    # fmt: on
    assert triggered_jobs(job) == [right]


def test_body_without_source() -> None:
    job = create_workflow_job(name="builtin", body=len)
    assert triggered_jobs(job) == []


# Breaches -------------------------------------------------------------------------------

HEADER = "from stackflow import create_workflow, create_workflow_job, workflow_job\n"


def test_two_workflows_in_one_module(tmp_path: Path) -> None:
    source = HEADER + textwrap.dedent("""\
        a = create_workflow_job(name="a", body=lambda: 1)
        first = create_workflow(name="first", main_job=a)
        second = create_workflow(name="second", main_job=a)
        """)
    [breach] = breaches_of(tmp_path, {"workflows/two.py": source})
    assert breach.rule == "one-workflow-per-module"
    assert breach.file == "workflows/two.py" and breach.line == 4
    assert "'first' (line 3)" in breach.message and "'second' (line 4)" in breach.message


def test_reexported_workflow_is_not_a_second_definition(tmp_path: Path) -> None:
    files = {
        "workflows/flow.py": HEADER
        + 'a = create_workflow_job(name="a", body=lambda: 1)\n'
        + 'workflow = create_workflow(name="w", main_job=a)\n',
        "workflows/__init__.py": "from .flow import workflow\n",
    }
    assert breaches_of(tmp_path, files) == []


def test_unbound_dep_and_unbound_triggered_job(tmp_path: Path) -> None:
    source = HEADER + textwrap.dedent("""\
        def make():
            return create_workflow_job(name="hidden-dep", body=lambda: 1)

        def build():
            inner = create_workflow_job(name="inner", body=lambda: 2)

            @workflow_job("outer", deps=[make()])
            def outer(input, ctx):
                return inner.trigger() + ctx.jobs.hidden_dep.trigger()

            return outer

        outer = build()
        workflow = create_workflow(name="wf", main_job=outer)
        unreachable = [create_workflow_job(name="unused", body=lambda: 3)]
        """)
    breaches = breaches_of(tmp_path, {"workflows/flow.py": source})
    assert [b.rule for b in breaches] == ["jobs-bound-at-module-level"] * 2
    dep, inner = breaches
    assert "job 'hidden-dep' (reachable from workflow 'wf')" in dep.message
    assert (dep.file, dep.line) == ("workflows/flow.py", 3)
    assert "job 'inner'" in inner.message and (inner.file, inner.line) == ("workflows/flow.py", 6)


def test_same_job_name_in_two_files(tmp_path: Path) -> None:
    files = {
        "workflows/a.py": HEADER + 'add = create_workflow_job(name="add", body=lambda: 1)\n',
        "workflows/b.py": HEADER + '\nadd = create_workflow_job(name="add", body=lambda: 2)\n',
    }
    [breach] = breaches_of(tmp_path, files)
    assert breach.rule == "unique-job-names"
    assert "job name 'add' is defined 2 times" in breach.message
    assert "workflows/a.py:2" in breach.message and "workflows/b.py:3" in breach.message
    assert (breach.file, breach.line) == ("workflows/b.py", 3)


def test_names_mapping_to_one_attribute(tmp_path: Path) -> None:
    files = {
        "workflows/a.py": HEADER + 'ab = create_workflow_job(name="a-b", body=lambda: 1)\n',
        "workflows/b.py": HEADER + 'a_b = create_workflow_job(name="a_b", body=lambda: 2)\n',
    }
    [breach] = breaches_of(tmp_path, files)
    assert breach.rule == "unique-job-names"
    assert "'a-b', 'a_b' all map to 'a_b'" in breach.message
    assert "workflows/a.py:2" in breach.message and "workflows/b.py:2" in breach.message


def test_same_workflow_name_in_two_files(tmp_path: Path) -> None:
    files = {
        name: HEADER
        + f'{job} = create_workflow_job(name="{job}", body=lambda: 1)\n'
        + f'workflow = create_workflow(name="orders", main_job={job})\n'
        for name, job in (("workflows/a.py", "ja"), ("workflows/b.py", "jb"))
    }
    [breach] = breaches_of(tmp_path, files)
    assert breach.rule == "unique-workflow-names"
    assert "workflow name 'orders' is defined 2 times" in breach.message
    assert "workflows/a.py:3" in breach.message and "workflows/b.py:3" in breach.message


def test_missing_main_job(tmp_path: Path) -> None:
    source = HEADER + '\nworkflow = create_workflow(name="x")\n'
    [breach] = breaches_of(tmp_path, {"workflows/flow.py": source})
    assert breach.rule == "main-job-required"
    assert (breach.file, breach.line) == ("workflows/flow.py", 3)
    assert "main_job" in breach.message


def test_string_deps(tmp_path: Path) -> None:
    source = HEADER + textwrap.dedent("""\
        job = create_workflow_job(name="x", deps=["fetch-customer"], body=lambda: 1)
        """)
    [breach] = breaches_of(tmp_path, {"workflows/flow.py": source})
    assert breach.rule == "deps-are-job-objects"
    assert (breach.file, breach.line) == ("workflows/flow.py", 2)
    assert "'fetch-customer'" in breach.message and "pass the job object" in breach.message


def test_definition_error_in_an_imported_module_is_reported_once(tmp_path: Path) -> None:
    files = {
        "workflows/jobs/bad.py": HEADER
        + 'bad = create_workflow_job(name="bad", deps=["x"], body=lambda: 1)\n',
        "workflows/flow.py": "from .jobs.bad import bad\n",
    }
    [breach] = breaches_of(tmp_path, files)
    assert breach.file == "workflows/jobs/bad.py"


def test_every_breach_at_once(tmp_path: Path) -> None:
    files = {
        "workflows/a.py": HEADER + 'workflow = create_workflow(name="x")\n',
        "workflows/b.py": HEADER + 'j = create_workflow_job(name="j", deps=["k"], body=len)\n',
        "workflows/c.py": HEADER + 'add = create_workflow_job(name="add", body=lambda: 1)\n',
        "workflows/d.py": HEADER + 'add = create_workflow_job(name="add", body=lambda: 1)\n',
    }
    rules = [breach.rule for breach in breaches_of(tmp_path, files)]
    assert rules == ["main-job-required", "deps-are-job-objects", "unique-job-names"]


def test_raise_for_breaches(tmp_path: Path) -> None:
    files = {
        "workflows/c.py": HEADER + 'add = create_workflow_job(name="add", body=lambda: 1)\n',
        "workflows/d.py": HEADER + 'add = create_workflow_job(name="add", body=lambda: 1)\n',
    }
    breaches_of(tmp_path, files)
    project = load_project(tmp_path / "stackflow.toml")
    with pytest.raises(ProjectLoadError, match=r"workflows/d.py:2: job names must be unique"):
        project.raise_for_breaches()


def test_breach_as_text_and_json() -> None:
    breach = Breach("unique-job-names", "message", "workflows/a.py", 3)
    assert str(breach) == "workflows/a.py:3: message [unique-job-names]"
    assert str(Breach("r", "m")) == "m [r]"
    assert breach.to_dict() == {
        "rule": "unique-job-names",
        "message": "message",
        "file": "workflows/a.py",
        "line": 3,
    }

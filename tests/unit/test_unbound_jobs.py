"""Rule 2 without holes: a reachable job held by no module-level name is a breach, whether it
sits in a list, a dict or a comprehension (found by `check`), or is built when a body runs
(refused when it is triggered)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from stackflow.engine.engine import Engine
from stackflow.project.loader import load_project
from stackflow.project.rules import Breach

HEADER = "from stackflow import create_workflow, create_workflow_job\n"


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STACKFLOW_DATABASE_URL", raising=False)
    monkeypatch.delenv("STACKFLOW_CONFIG", raising=False)


def _project(root: Path, flow: str, database: str | None = None) -> Path:
    toml = 'name = "t"\n' + (f'database = "{database}"\n' if database else "")
    (root / "stackflow.toml").write_text(toml, encoding="utf-8")
    (root / "workflows").mkdir(parents=True, exist_ok=True)
    (root / "workflows" / "flow.py").write_text(HEADER + textwrap.dedent(flow), encoding="utf-8")
    return root / "stackflow.toml"


def _unbound(root: Path, flow: str) -> list[Breach]:
    breaches = load_project(_project(root, flow)).breaches
    assert {b.rule for b in breaches} <= {"jobs-bound-at-module-level"}, breaches
    return breaches


def test_a_job_in_a_list_built_by_a_comprehension(tmp_path: Path) -> None:
    breaches = _unbound(
        tmp_path,
        """\
        HIDDEN = [create_workflow_job(name=f"hidden-{n}", body=lambda input: input)
                  for n in range(2)]

        main = create_workflow_job(name="main", body=lambda input: HIDDEN[0].trigger({}))
        workflow = create_workflow(name="wf", main_job=main)
        """,
    )
    assert [(b.file, b.line) for b in breaches] == [("workflows/flow.py", 2)]
    assert "job 'hidden-0' (reachable from workflow 'wf') must be bound" in breaches[0].message
    assert str(breaches[0]).startswith("workflows/flow.py:2: job 'hidden-0'")


def test_a_job_in_a_dict_and_in_a_tuple_of_a_closure(tmp_path: Path) -> None:
    breaches = _unbound(
        tmp_path,
        """\
        JOBS = {"a": create_workflow_job(name="in-dict", body=lambda input: input)}


        def build():
            pair = (create_workflow_job(name="in-tuple", body=lambda input: input),)

            def _main(input):
                JOBS["a"].trigger({})
                return pair[0].start({}).result()

            return _main


        main = create_workflow_job(name="main", body=build())
        workflow = create_workflow(name="wf", main_job=main)
        """,
    )
    assert sorted((b.message.split("'")[1], b.line) for b in breaches) == [
        ("in-dict", 2),
        ("in-tuple", 6),
    ]


def test_every_job_of_a_collection_a_loop_triggers(tmp_path: Path) -> None:
    breaches = _unbound(
        tmp_path,
        """\
        STEPS = [create_workflow_job(name=f"step-{n}", body=lambda input: input)
                 for n in range(3)]


        def _main(input):
            return [each.trigger({}) for each in STEPS]


        main = create_workflow_job(name="main", body=_main)
        workflow = create_workflow(name="wf", main_job=main)
        """,
    )
    assert sorted(b.message.split("'")[1] for b in breaches) == ["step-0", "step-1", "step-2"]


def test_bound_jobs_reached_through_a_collection_are_fine_and_reachable(tmp_path: Path) -> None:
    project = load_project(
        _project(
            tmp_path,
            """\
            a = create_workflow_job(name="a", body=lambda input: input)
            b = create_workflow_job(name="b", body=lambda input: input)
            ROUTES = {"a": a, "b": b}


            def _main(input):
                return ROUTES[input["route"]].trigger({})


            main = create_workflow_job(name="main", body=_main)
            workflow = create_workflow(name="wf", main_job=main)
            """,
        )
    )
    assert project.breaches == [] and project.warnings == []
    assert list(project.job_functions("wf")) == ["main", "a", "b"]


BUILT_AT_RUN_TIME = """\
def build():
    return create_workflow_job(name="built", body=lambda input: input)


def _main(input):
    return build().trigger({})


main = create_workflow_job(name="main", body=_main)
workflow = create_workflow(name="wf", main_job=main)
"""


def test_a_job_built_while_a_body_runs_is_refused_when_triggered(
    tmp_path: Path, store_url: str
) -> None:
    config = _project(tmp_path, BUILT_AT_RUN_TIME, database=store_url)
    with Engine.from_config(config) as engine:
        assert engine.project is not None and engine.project.breaches == []
        failed = engine.wait(engine.start("wf", {}))
    assert failed.status == "FAILED"
    assert failed.error is not None and failed.error["type"] == "DefinitionError"
    assert failed.error["message"] == (
        "job 'built' (triggered by job 'main') must be bound to a module-level name in a "
        "loaded module; its body is at workflows/flow.py:3"
    )

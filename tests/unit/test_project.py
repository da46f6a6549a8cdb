"""Loading a project: importing workflow files as packages, reloading, import errors."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from stackflow.errors import ConfigError, ProjectLoadError, UnknownWorkflow
from stackflow.project.loader import load_project

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STACKFLOW_DATABASE_URL", raising=False)
    monkeypatch.delenv("STACKFLOW_CONFIG", raising=False)


def write_project(root: Path, files: dict[str, str], toml: str = 'name = "t"\n') -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "stackflow.toml").write_text(toml, encoding="utf-8")
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root / "stackflow.toml"


@pytest.fixture
def order_project(tmp_path: Path) -> Path:
    shutil.copytree(FIXTURES / "order_processing", tmp_path / "order")
    return tmp_path / "order" / "stackflow.toml"


SIMPLE = """\
from stackflow import create_workflow, create_workflow_job

main = create_workflow_job(name="{job}", body=lambda: 1)
workflow = create_workflow(name="{workflow}", main_job=main)
"""


def test_order_processing_job_functions(order_project: Path) -> None:
    project = load_project(order_project)
    workflow = project.get_workflow("order-processing")
    functions = project.job_functions(workflow)
    assert list(functions) == ["process-order", "fetch-customer", "send-notification"]
    assert functions["process-order"] is workflow.main_job
    assert "generate-report" in project.jobs
    assert "generate-report" not in functions
    assert project.job_functions("order-processing") == functions
    assert project.breaches == []
    assert sorted(p.name for p in project.files) == [
        "fetch_customer.py",
        "order_processing.py",
        "send_notification.py",
    ]


def test_order_processing_runs_locally(order_project: Path) -> None:
    project = load_project(order_project)
    main_job = project.get_workflow("order-processing").main_job
    result = main_job.trigger({"orderId": "o1", "customerId": "c1"})
    assert result == {"orderId": "o1", "customerEmail": "c1@example.com", "notificationSent": True}


def test_get_and_find_workflow(order_project: Path) -> None:
    project = load_project(order_project)
    assert project.find_workflow("nope") is None
    with pytest.raises(UnknownWorkflow, match=r"'nope'.*order-processing"):
        project.get_workflow("nope")


def test_config_found_from_working_directory(
    order_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(order_project.parent / "workflows" / "jobs")
    assert "order-processing" in load_project().workflows


def test_test_files_are_ignored(tmp_path: Path) -> None:
    files = {
        "workflows/flow.py": SIMPLE.format(job="a", workflow="w"),
        "workflows/test_flow.py": "this is not python",
        "workflows/flow_test.py": "nor this",
    }
    project = load_project(write_project(tmp_path, files))
    assert [p.name for p in project.files] == ["flow.py"]


def test_glob_matching_nothing(tmp_path: Path) -> None:
    path = write_project(tmp_path, {}, '[workflow]\nfiles = ["flows/*.py"]\n')
    with pytest.raises(ConfigError, match=r"'workflow.files' glob 'flows/\*.py' matches no file"):
        load_project(path)


def test_two_projects_in_one_process_get_their_own_modules(tmp_path: Path) -> None:
    first = write_project(
        tmp_path / "one", {"workflows/f.py": SIMPLE.format(job="a", workflow="w1")}
    )
    second = write_project(
        tmp_path / "two", {"workflows/f.py": SIMPLE.format(job="b", workflow="w2")}
    )
    assert list(load_project(first).workflows) == ["w1"]
    assert list(load_project(second).workflows) == ["w2"]
    assert list(load_project(first).workflows) == ["w1"]


def test_reload_after_an_edit(tmp_path: Path) -> None:
    path = write_project(tmp_path, {"workflows/f.py": SIMPLE.format(job="a", workflow="w")})
    assert list(load_project(path).jobs) == ["a"]
    flow = tmp_path / "workflows" / "f.py"
    flow.write_text(SIMPLE.format(job="renamed", workflow="w"), encoding="utf-8")
    assert list(load_project(path).jobs) == ["renamed"]


def test_relative_imports_and_namespace_packages(tmp_path: Path) -> None:
    files = {
        "workflows/deep/jobs/leaf.py": """\
            from stackflow import create_workflow_job
            leaf = create_workflow_job(name="leaf", body=lambda: "leaf")
            """,
        "workflows/deep/flow.py": """\
            from stackflow import create_workflow, workflow_job
            from .jobs.leaf import leaf

            @workflow_job("top", deps=[leaf])
            def top(input, ctx):
                return ctx.jobs.leaf()

            workflow = create_workflow(name="deep", main_job=top)
            """,
    }
    project = load_project(write_project(tmp_path, files))
    assert list(project.job_functions("deep")) == ["top", "leaf"]
    assert project.get_workflow("deep").main_job.trigger() == "leaf"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            "x = 1\n\ny = foo\n",
            "workflows/x.py: cannot import: NameError: name 'foo' is not defined (line 3)",
        ),
        ("def broken(:\n    pass\n", "workflows/x.py: cannot import: SyntaxError: invalid syntax"),
        (
            "from .missing import thing\n",
            "workflows/x.py: cannot import: ModuleNotFoundError: "
            "No module named 'workflows.missing' (line 1)",
        ),
        (
            "from .helper import value\n",
            "workflows/x.py: cannot import: ZeroDivisionError: division by zero "
            "(workflows/helper.py, line 2)",
        ),
    ],
)
def test_import_error_is_one_line(tmp_path: Path, source: str, expected: str) -> None:
    files = {"workflows/x.py": source, "lib/unused.py": ""}
    toml = '[workflow]\nfiles = ["workflows/x.py"]\n'
    files["workflows/helper.py"] = "# helper\nvalue = 1 / 0\n"
    with pytest.raises(ProjectLoadError) as caught:
        load_project(write_project(tmp_path, files, toml))
    assert str(caught.value).startswith(expected)
    assert "\n" not in str(caught.value)

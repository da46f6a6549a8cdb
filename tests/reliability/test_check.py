"""`stackflow check` lists every breach: import failures, undeclared deps, bad or repeated names."""

from __future__ import annotations

import json
from pathlib import Path

from commands import stackflow
from reliability_kit import write_project

GOOD = """
from stackflow import create_workflow, create_workflow_job

def _a(input):
    return {}

a = create_workflow_job(name="a", body=_a)
workflow = create_workflow(name="good", main_job=a)
"""

SAME_JOB_NAME = GOOD.replace('"good"', '"other"')  # a second job named "a": a breach

NOT_A_DEP = """
from stackflow import create_workflow, create_workflow_job

def _b(input):
    return {}

def _c(input):
    return {}

b = create_workflow_job(name="b", body=_b)
c = create_workflow_job(name="c", body=_c)

def _a(input, ctx):
    return ctx.jobs.c({})

a = create_workflow_job(name="a", body=_a, deps=[b])
workflow = create_workflow(name="not-a-dep", main_job=a)
"""

TWICE_IN_DEPS = """
from stackflow import create_workflow, create_workflow_job

def _b(input):
    return {}

b = create_workflow_job(name="b", body=_b)
b_again = create_workflow_job(name="b", body=_b)

def _a(input, ctx):
    return ctx.jobs.b({})

a = create_workflow_job(name="a", body=_a, deps=[b, b_again])
workflow = create_workflow(name="twice", main_job=a)
"""

BAD_NAMES = """
from stackflow import create_workflow, create_workflow_job

def _a(input):
    return {}

a = create_workflow_job(name="Bad Name!", body=_a)
workflow = create_workflow(name="Bad Workflow!", main_job=a)
"""


def _check(tmp_path: Path, flows: dict[str, str], *args: str) -> tuple[int, str]:
    root = write_project(tmp_path, "sqlite:///state.db", flows)
    done = stackflow(root, "check", *args)
    assert "Traceback" not in done.stdout + done.stderr
    return done.code, done.stdout + done.stderr


def test_a_file_that_fails_to_import_is_one_breach_among_the_others(tmp_path: Path) -> None:
    flows = {"good.py": GOOD, "other.py": SAME_JOB_NAME, "broken.py": "import no_such_module\n"}

    code, report = _check(tmp_path, flows)

    assert code == 1
    assert "workflows/broken.py" in report and "no_such_module" in report
    assert "unique-job-names" in report


def test_check_json_reports_a_file_that_fails_to_import(tmp_path: Path) -> None:
    root = write_project(tmp_path, "sqlite:///state.db", {"broken.py": "import no_such_module\n"})
    done = stackflow(root, "check", "-j")

    assert done.code == 1
    breaches = json.loads(done.stdout)
    assert [b["file"] for b in breaches] == ["workflows/broken.py"]
    assert "no_such_module" in breaches[0]["message"]


def test_a_call_to_a_job_that_is_not_a_dep(tmp_path: Path) -> None:
    code, report = _check(tmp_path, {"flow.py": NOT_A_DEP})

    assert code == 1
    assert "ctx.jobs.c" in report or "'c'" in report


def test_the_same_name_twice_in_one_deps_list(tmp_path: Path) -> None:
    code, report = _check(tmp_path, {"flow.py": TWICE_IN_DEPS})

    assert code == 1
    assert "unique-job-names" in report


def test_job_and_workflow_names_follow_a_grammar(tmp_path: Path) -> None:
    code, report = _check(tmp_path, {"flow.py": BAD_NAMES})

    assert code == 1
    assert "Bad Name!" in report and "Bad Workflow!" in report

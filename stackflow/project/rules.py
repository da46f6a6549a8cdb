"""The workflow rules as data: the breaches found in a loaded project."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType, TracebackType
from typing import Any

from stackflow.definitions.jobs import WorkflowJob
from stackflow.definitions.names import attribute_name
from stackflow.definitions.workflows import Workflow
from stackflow.errors import DefinitionError, DuplicateJobName

ONE_WORKFLOW_PER_MODULE = "one-workflow-per-module"
JOBS_BOUND_AT_MODULE_LEVEL = "jobs-bound-at-module-level"
UNIQUE_JOB_NAMES = "unique-job-names"
UNIQUE_WORKFLOW_NAMES = "unique-workflow-names"
MAIN_JOB_REQUIRED = "main-job-required"
DEPS_ARE_JOB_OBJECTS = "deps-are-job-objects"
VALID_DEFINITION = "valid-definition"
UNREACHABLE_JOB = "unreachable-job"
IMPORTABLE_FILES = "importable-files"
VALID_NAMES = "valid-names"
JOB_CALLS_ARE_DEPS = "called-jobs-are-deps"

_PACKAGE_DIR = Path(__file__).resolve().parent.parent
"""The stackflow package: errors raised in it while a workflow file loads are definition errors."""

Location = tuple[str | None, int | None]


@dataclass(frozen=True)
class Breach:
    """One broken rule: which rule, a message naming the object, and where."""

    rule: str
    message: str
    file: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.file and self.line else self.file
        return (
            f"{where}: {self.message} [{self.rule}]" if where else f"{self.message} [{self.rule}]"
        )

    def as_warning(self) -> str:
        """`file:line: warning: message [rule]`: the breach as a warning line."""
        where = f"{self.file}:{self.line}" if self.file and self.line else self.file
        text = f"warning: {self.message} [{self.rule}]"
        return f"{where}: {text}" if where else text

    def to_dict(self) -> dict[str, Any]:
        """The breach as a JSON object."""
        return {"rule": self.rule, "message": self.message, "file": self.file, "line": self.line}


def display_path(path: str | Path, root: Path) -> str:
    """`path` relative to the project root (posix style) when under it, else as given."""
    try:
        return Path(path).resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


class Locator:
    """Finds where jobs and workflows are defined, as paths relative to the project root."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def job(self, job: WorkflowJob) -> Location:
        """The file and line of the job's body."""
        location = job.source_location
        return (display_path(location[0], self.root), location[1]) if location else (None, None)

    def workflow(self, workflow: Workflow) -> Location:
        """The file and line of the create_workflow call."""
        if workflow.defined_at is None:
            return self.job(workflow.main_job)
        return display_path(workflow.defined_at[0], self.root), workflow.defined_at[1]

    def place(self, location: Location) -> str:
        """`file:line` for a message."""
        file, line = location
        return f"{file or '<unknown file>'}{f':{line}' if line else ''}"


# The rules ----------------------------------------------------------------------------


def workflow_module_breaches(
    file: str, workflows: Sequence[Workflow], locator: Locator
) -> list[Breach]:
    """A workflow module defines exactly one module-level Workflow."""
    if len(workflows) <= 1:
        return []
    places = ", ".join(
        f"{workflow.name!r} (line {locator.workflow(workflow)[1]})" for workflow in workflows
    )
    return [
        Breach(
            ONE_WORKFLOW_PER_MODULE,
            f"a workflow module must define exactly one module-level Workflow; "
            f"{file} defines {len(workflows)}: {places}",
            file,
            locator.workflow(workflows[1])[1],
        )
    ]


def unbound_job_breaches(
    workflow: Workflow,
    reachable: Iterable[WorkflowJob],
    bound: Mapping[int, object],
    locator: Locator,
) -> list[Breach]:
    """Every job a workflow can reach is bound to a module-level name in a loaded module."""
    breaches = []
    for job in reachable:
        if is_bound(job, bound):
            continue
        file, line = locator.job(job)
        message = unbound_job_message(job, f"reachable from workflow {workflow.name!r}", locator)
        breaches.append(Breach(JOBS_BOUND_AT_MODULE_LEVEL, message, file, line))
    return breaches


def is_bound(job: WorkflowJob, bound: Mapping[int, object]) -> bool:
    """Whether `job` is bound to a module-level name (of a loaded module, or its own)."""
    return id(job) in bound or _bound_in_own_module(job)


def unbound_job_message(job: WorkflowJob, how: str, locator: Locator) -> str:
    """The rule-2 message for a reachable job that no module-level name holds."""
    return (
        f"job {job.name!r} ({how}) must be bound to a module-level name in a loaded module; "
        f"its body is at {locator.place(locator.job(job))}"
    )


def unreachable_job_warnings(
    jobs: Iterable[WorkflowJob], reachable: Mapping[int, object], locator: Locator
) -> list[Breach]:
    """A job bound in a loaded module that no workflow reaches (a warning, not a breach)."""
    warnings = []
    for job in jobs:
        if id(job) in reachable:
            continue
        file, line = locator.job(job)
        warnings.append(
            Breach(
                UNREACHABLE_JOB,
                f"job {job.name!r} is not reached by any workflow: no workflow's main job "
                "reaches it through deps or .trigger/.start calls",
                file,
                line,
            )
        )
    return warnings


def _bound_in_own_module(job: WorkflowJob) -> bool:
    module = sys.modules.get(getattr(job.body, "__module__", None) or "")
    return module is not None and any(value is job for value in vars(module).values())


def duplicate_name_breaches(
    kind: str,
    objects: Sequence[WorkflowJob] | Sequence[Workflow],
    locate: Callable[[Any], Location],
    locator: Locator,
) -> list[Breach]:
    """Two jobs (or workflows) with one name, or two names that map to one attribute."""
    groups: dict[str, list[Any]] = {}
    for obj in objects:
        groups.setdefault(attribute_name(obj.name), []).append(obj)
    rule = UNIQUE_JOB_NAMES if kind == "job" else UNIQUE_WORKFLOW_NAMES
    return [
        _duplicate_breach(rule, kind, attribute, group, locate, locator)
        for attribute, group in groups.items()
        if len(group) > 1
    ]


def _duplicate_breach(
    rule: str,
    kind: str,
    attribute: str,
    group: Sequence[Any],
    locate: Callable[[Any], Location],
    locator: Locator,
) -> Breach:
    places = " and ".join(f"{obj.name!r} at {locator.place(locate(obj))}" for obj in group)
    names = {obj.name for obj in group}
    if len(names) == 1:
        problem = f"{kind} name {group[0].name!r} is defined {len(group)} times"
    else:
        problem = f"{kind} names {', '.join(map(repr, sorted(names)))} all map to {attribute!r}"
    file, line = locate(group[-1])
    return Breach(
        rule, f"{kind} names must be unique across the project: {problem}: {places}", file, line
    )


def definition_breach(error: BaseException, root: Path) -> Breach | None:
    """The breach for a definition error raised while importing a workflow file, if it is one."""
    frames = _frames(error.__traceback__)
    if not frames or not _is_definition_error(error, frames[-1][0]):
        return None
    user = [(file, line) for file, line, _ in frames if _is_user_file(file)]
    file, line = (display_path(user[-1][0], root), user[-1][1]) if user else (None, None)
    message = " ".join(str(error).split())
    if isinstance(error, DuplicateJobName):
        rule = UNIQUE_JOB_NAMES
    elif frames[-1][2] == "_check_deps":
        rule = DEPS_ARE_JOB_OBJECTS
    elif "main_job" in message:
        rule = MAIN_JOB_REQUIRED
    else:
        rule = VALID_DEFINITION
    return Breach(rule, f"{type(error).__name__}: {message}", file, line)


def _frames(traceback: TracebackType | None) -> list[tuple[str, int, str]]:
    frames = []
    while traceback is not None:
        code = traceback.tb_frame.f_code
        frames.append((code.co_filename, traceback.tb_lineno, code.co_name))
        traceback = traceback.tb_next
    return frames


def _is_user_file(file: str) -> bool:
    return not file.startswith("<") and not _in_package(file)


def _in_package(file: str) -> bool:
    return Path(file).resolve().is_relative_to(_PACKAGE_DIR)


def _is_definition_error(error: BaseException, innermost_file: str) -> bool:
    if isinstance(error, DefinitionError):
        return True
    return isinstance(error, TypeError) and _in_package(innermost_file)


def module_jobs(module: ModuleType) -> list[WorkflowJob]:
    """The jobs bound to module-level names in `module`, each once."""
    return _distinct(value for value in vars(module).values() if isinstance(value, WorkflowJob))


def module_workflows(module: ModuleType) -> list[Workflow]:
    """The workflows bound to module-level names in `module`, each once."""
    return _distinct(value for value in vars(module).values() if isinstance(value, Workflow))


def _distinct(values: Iterable[Any]) -> list[Any]:
    return list({id(value): value for value in values}.values())

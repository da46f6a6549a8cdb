"""Loading a project: import its workflow files, collect what they define, find the breaches."""

from __future__ import annotations

import importlib
import os
import sys
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from types import ModuleType
from typing import TYPE_CHECKING, Any, TypeVar

from stackflow.config import ProjectConfig, load_config
from stackflow.definitions.jobs import WorkflowJob
from stackflow.definitions.schedules import Schedule
from stackflow.definitions.triggers import RecordTrigger, register_trigger_attacher
from stackflow.definitions.webhooks import Webhook
from stackflow.definitions.workflows import Workflow
from stackflow.errors import ConfigError, ProjectLoadError
from stackflow.module_names import module_name
from stackflow.project import rules
from stackflow.project.dep_rules import undeclared_dep_breaches
from stackflow.project.import_failures import import_failure
from stackflow.project.name_rules import name_breaches
from stackflow.project.project import Project
from stackflow.project.reachability import reachable_jobs
from stackflow.project.rules import Breach, Locator, display_path
from stackflow.project.schedule_rules import schedule_breaches
from stackflow.project.trigger_rules import bind_record_triggers, module_record_triggers
from stackflow.project.webhook_rules import module_webhooks, webhook_breaches

if TYPE_CHECKING:
    from stackflow.tailordb.registry import TailorDB

T = TypeVar("T")
N = TypeVar("N", WorkflowJob, Workflow, Schedule, Webhook, RecordTrigger)

_load_lock = threading.Lock()
_roots_on_path: list[str] = []
_loading = threading.local()
"""`_loading.active` is True while this thread loads a project."""


def load_project(
    config_path: str | Path | None = None, *, import_failures_as_breaches: bool = False
) -> Project:
    """Load the project: read stackflow.toml, import every workflow file, check the rules.

    With `import_failures_as_breaches` (what `stackflow check` asks for), a workflow file
    that fails to import is one `importable-files` breach and the other files still load.

    Raises:
        ConfigError: the configuration is bad or a glob matches no file.
        ProjectLoadError: a workflow file cannot be imported (unless such failures are
            breaches).
    """
    config = load_config(config_path)
    files = workflow_files(config)
    with _load_lock:
        _loading.active = True
        try:
            loaded = _import_files(config.root, files, import_failures_as_breaches)
            modules = _project_modules(config.root, loaded.modules)
            tailordb = _load_tailordb(config, loaded.breaches)
        finally:
            _loading.active = False
    project = _build(config, files, modules, loaded.breaches)
    project.tailordb = tailordb
    project.breaches.extend(_transactional_breaches(project))
    _bind_record_triggers(project)
    return project


def _bind_record_triggers(project: Project) -> None:
    """Collect the record triggers; those without breaches fire on the project's writes."""
    triggers = module_record_triggers(project.modules)
    project.record_triggers = _by_name(triggers)
    if not triggers and project.tailordb is None:
        return
    machine_users = {name: user.attributes for name, user in project.config.machine_users.items()}
    bindings, breaches = bind_record_triggers(
        triggers, project.tailordb, machine_users, project.root
    )
    project.trigger_bindings = bindings
    project.breaches.extend(breaches)
    if project.tailordb is not None:
        from stackflow.tailordb.runtime import known_discovered  # SQLAlchemy is loaded by now
        from stackflow.tailordb.trigger_binding import attach_triggers

        attach_triggers(project.tailordb, bindings)
        discovered = known_discovered(project.config.path)
        if discovered is not None:
            attach_triggers(discovered, bindings)


def _attach_to_discovered(config_path: Path, tailordb: Any) -> None:
    """Give the TailorDB that scripts use the record triggers of its project."""
    if getattr(_loading, "active", False):
        return  # a workflow file called get_db while loading: the load attaches them
    config = load_config(config_path)
    if not any(_glob(config, pattern) for pattern in config.workflow_files):
        return  # no workflow files yet (a project of TailorDB types only): no triggers
    load_project(config_path)


register_trigger_attacher(_attach_to_discovered)


def _load_tailordb(config: ProjectConfig, breaches: list[Breach]) -> TailorDB | None:
    """Import the `[db.<namespace>]` type files; a broken one is a breach."""
    if not config.db:
        return None
    from stackflow.tailordb.registry import load_tailordb  # SQLAlchemy loads only for TailorDB

    try:
        return load_tailordb(config)
    except ProjectLoadError as error:
        file, _, message = str(error).partition(": ")
        breaches.append(Breach(rules.VALID_DEFINITION, message, file))
        return None


def _transactional_breaches(project: Project) -> list[Breach]:
    from stackflow.tailordb.checks import (  # SQLAlchemy loads only for TailorDB
        TRANSACTIONAL_RULE,
        transactional_problems,
    )

    locator = Locator(project.root)
    return [
        Breach(TRANSACTIONAL_RULE, problem, *locator.job(job))
        for job, problem in transactional_problems(project.config, project.jobs.values())
    ]


def workflow_files(config: ProjectConfig) -> list[Path]:
    """The files matched by `[workflow] files`, minus `[workflow] ignore`, in a stable order."""
    found: dict[Path, None] = {}
    for pattern in config.workflow_files:
        matches = _glob(config, pattern)
        if not matches:
            raise ConfigError(
                f"{display_path(config.path, Path.cwd())}: 'workflow.files' glob {pattern!r} "
                f"matches no file under {config.root}"
            )
        found.update(dict.fromkeys(path for path in matches if not _ignored(config, path)))
    return list(found)


def _glob(config: ProjectConfig, pattern: str) -> list[Path]:
    if PurePath(pattern).is_absolute():
        raise ConfigError(
            f"{display_path(config.path, Path.cwd())}: 'workflow.files' glob {pattern!r} "
            "must be relative to the project root"
        )
    return sorted(path.resolve() for path in config.root.glob(pattern) if path.is_file())


def _ignored(config: ProjectConfig, path: Path) -> bool:
    relative = PurePath(display_path(path, config.root))
    return "__pycache__" in relative.parts or any(
        relative.match(pattern) for pattern in config.workflow_ignore
    )


# Importing ----------------------------------------------------------------------------


@dataclass
class _Loaded:
    modules: list[ModuleType] = field(default_factory=list)
    breaches: list[Breach] = field(default_factory=list)


def _import_files(root: Path, files: list[Path], failures_as_breaches: bool) -> _Loaded:
    names = {path: module_name(path, root) for path in files}
    _use_root(root, {name.split(".")[0] for name in names.values()})
    loaded = _Loaded()
    writes_bytecode = sys.dont_write_bytecode
    sys.dont_write_bytecode = True  # no .pyc: an edit within the same second is never missed
    try:
        for path, name in names.items():
            _import_one(loaded, path, name, root, failures_as_breaches)
    finally:
        sys.dont_write_bytecode = writes_bytecode
    return loaded


def _import_one(
    loaded: _Loaded, path: Path, name: str, root: Path, failures_as_breaches: bool
) -> None:
    try:
        loaded.modules.append(importlib.import_module(name))
    except (Exception, SystemExit) as error:
        breach = rules.definition_breach(error, root)
        if breach is None and not failures_as_breaches:
            raise ProjectLoadError(str(import_failure(error, path, root))) from None
        breach = breach or import_failure(error, path, root).breach()
        if breach not in loaded.breaches:
            loaded.breaches.append(breach)


def _use_root(root: Path, top_names: set[str]) -> None:
    """Put `root` first on sys.path and forget modules an earlier load imported."""
    for entry in _roots_on_path:
        while entry in sys.path:
            sys.path.remove(entry)
    _roots_on_path[:] = [str(root.resolve())]
    sys.path.insert(0, _roots_on_path[0])
    for name, module in list(sys.modules.items()):
        if name == "stackflow" or name.startswith("stackflow."):
            continue
        if name.split(".")[0] in top_names or _is_project_module(name, module, root):
            del sys.modules[name]
    importlib.invalidate_caches()


def _is_project_module(name: str, module: ModuleType | None, root: Path) -> bool:
    """Whether `module` was imported from under `root` with `root` on sys.path."""
    prefix = str(root.resolve()) + os.sep
    file = getattr(module, "__file__", None)
    paths = [file] if file else list(getattr(module, "__path__", None) or [])
    for path in paths:
        absolute = os.path.abspath(path)
        if absolute.startswith(prefix) and _dotted(absolute[len(prefix) :]) == name:
            return True
    return False


def _dotted(relative: str) -> str:
    parts = list(PurePath(relative).parts)
    if parts and parts[-1].endswith(".py"):
        parts[-1] = parts[-1][:-3]
    if parts and parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _project_modules(root: Path, first: list[ModuleType]) -> list[ModuleType]:
    found = {id(module): module for module in first}
    others = sorted(
        (name, module)
        for name, module in list(sys.modules.items())
        if id(module) not in found and _is_project_module(name, module, root)
    )
    found.update((id(module), module) for _, module in others)
    return list(found.values())


# Collecting ---------------------------------------------------------------------------


def _build(
    config: ProjectConfig, files: list[Path], modules: list[ModuleType], breaches: list[Breach]
) -> Project:
    jobs = _distinct(job for module in modules for job in rules.module_jobs(module))
    workflows = _distinct(wf for module in modules for wf in rules.module_workflows(module))
    project = Project(
        config=config,
        files=files,
        modules=modules,
        workflows=_by_name(workflows),
        jobs=_by_name(jobs),
        breaches=list(breaches),
        schedules=_by_name(_distinct(_module_schedules(modules))),
    )
    project.breaches.extend(_rule_breaches(project, modules, jobs, workflows))
    webhooks = module_webhooks(modules)
    project.webhooks = _by_name(webhooks)
    project.breaches.extend(webhook_breaches(webhooks, config.machine_users, config.root))
    project.breaches.extend(
        schedule_breaches(project.schedules.values(), config.machine_users, config.root)
    )
    return project


def _module_schedules(modules: list[ModuleType]) -> list[Schedule]:
    return [
        value
        for module in modules
        for value in vars(module).values()
        if isinstance(value, Schedule)
    ]


def _rule_breaches(
    project: Project,
    modules: list[ModuleType],
    jobs: list[WorkflowJob],
    workflows: list[Workflow],
) -> list[Breach]:
    locator = Locator(project.root)
    breaches: list[Breach] = []
    for module in modules:
        defined = [wf for wf in rules.module_workflows(module) if _defined_in(wf, module)]
        file = display_path(module.__file__ or module.__name__, project.root)
        breaches.extend(rules.workflow_module_breaches(file, defined, locator))
    bound = {id(job): job for job in jobs}
    project.bound_jobs = bound
    reachable: list[WorkflowJob] = list(jobs)
    reached: dict[int, WorkflowJob] = {}
    for workflow in workflows:
        found = reachable_jobs(workflow.main_job)
        breaches.extend(rules.unbound_job_breaches(workflow, found, bound, locator))
        reachable.extend(found)
        reached.update((id(job), job) for job in found)
    project.warnings.extend(rules.unreachable_job_warnings(jobs, reached, locator))
    breaches.extend(name_breaches(_distinct(reachable), workflows, locator))
    breaches.extend(undeclared_dep_breaches(_distinct(reachable), locator))
    breaches.extend(
        rules.duplicate_name_breaches("job", _distinct(reachable), locator.job, locator)
    )
    breaches.extend(rules.duplicate_name_breaches("workflow", workflows, locator.workflow, locator))
    return breaches


def _defined_in(workflow: Workflow, module: ModuleType) -> bool:
    if workflow.defined_at is None or module.__file__ is None:
        return True
    return os.path.abspath(workflow.defined_at[0]) == os.path.abspath(module.__file__)


def _distinct(values: Iterable[T]) -> list[T]:
    return list({id(value): value for value in values}.values())


def _by_name(values: list[N]) -> dict[str, N]:
    named: dict[str, N] = {}
    for value in values:
        named.setdefault(value.name, value)
    return named

"""`get_db`: the namespace's query builder for the running job, script or test."""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from stackflow.config import CONFIG_PATH_VARIABLE, find_config, load_config
from stackflow.definitions.runner import current_runner
from stackflow.tailordb.database import Db
from stackflow.tailordb.permissions import FULL_ACCESS, Access
from stackflow.tailordb.registry import TailorDB, load_tailordb

if TYPE_CHECKING:
    from stackflow.project.project import Project

_discovered: dict[Path, TailorDB] = {}
_discover_lock = threading.Lock()


@runtime_checkable
class ExecutionRunner(Protocol):
    """A job running inside an execution: who invoked it and which project it belongs to."""

    @property
    def invoker(self) -> Mapping[str, Any] | None:
        """The machine user of the execution, if any."""
        ...

    @property
    def project(self) -> Project | None:
        """The loaded project of the engine running the job, if it has one."""
        ...


def get_db(namespace: str | None = None) -> Db:
    """The query builder of a TailorDB namespace (`get_db("tailordb")`).

    Inside a job it uses the engine's project, the job's transaction when the
    job is transactional, and enforces the types' permissions against the
    execution's machine user. Elsewhere it uses the project found from the
    working directory (or STACKFLOW_CONFIG) with full access.
    """
    runner = current_runner.get()
    if isinstance(runner, ExecutionRunner):
        tailordb = project_tailordb(runner.project)
        access = Access(runner.invoker, enforced=True)
    else:
        tailordb, access = project_tailordb(None), FULL_ACCESS
    return Db(tailordb.namespace(namespace), access)


def project_tailordb(project: Project | None) -> TailorDB:
    """The TailorDB of a loaded project, or of the project found from here."""
    found = getattr(project, "tailordb", None) if project is not None else None
    if isinstance(found, TailorDB):
        return found
    return discovered_tailordb()


def discovered_tailordb() -> TailorDB:
    """The TailorDB of the stackflow.toml named by STACKFLOW_CONFIG or found from here."""
    named = os.environ.get(CONFIG_PATH_VARIABLE)
    path = Path(named).resolve() if named else find_config()
    if path.is_dir():
        path = path / "stackflow.toml"
    with _discover_lock:
        tailordb = _discovered.get(path)
        if tailordb is None:
            tailordb = load_tailordb(load_config(path))
            _discovered[path] = tailordb
        return tailordb


def forget_discovered() -> None:
    """Drop the cached projects (tests that change stackflow.toml)."""
    with _discover_lock:
        _discovered.clear()

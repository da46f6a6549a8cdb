"""The dashboard's JSON API: Engine calls shaped exactly as the CLI's `-j` output."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from stackflow import shapes
from stackflow.engine.engine import Engine
from stackflow.errors import (
    ExecutionNotFound,
    NotCancelable,
    NotResumable,
    ProjectLoadError,
    UnknownWorkflow,
)
from stackflow.records import ExecutionStatus

BAD_REQUEST = 400
NOT_FOUND = 404
CONFLICT = 409

NOT_FOUND_ERRORS: tuple[type[Exception], ...] = (ExecutionNotFound,)
CONFLICT_ERRORS: tuple[type[Exception], ...] = (NotResumable, NotCancelable, ProjectLoadError)


class ApiError(Exception):
    """A request the API refuses: an HTTP status and one line for `{"error": ...}`."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        self.message = message
        super().__init__(message)


def api_error_for(error: Exception) -> ApiError | None:
    """The ApiError of a not-found or not-allowed-now engine error; None for anything else."""
    if isinstance(error, NOT_FOUND_ERRORS):
        return ApiError(NOT_FOUND, one_line(error))
    if isinstance(error, CONFLICT_ERRORS):
        return ApiError(CONFLICT, one_line(error))
    return None


def one_line(error: BaseException) -> str:
    """The error's message on one line."""
    return " ".join(str(error).split()) or type(error).__name__


# Workflows ------------------------------------------------------------------------------


def list_workflows(engine: Engine) -> list[dict[str, Any]]:
    """As `workflow list -j`: the project's workflows, by name."""
    return [shapes.workflow_summary_json(summary) for summary in engine.describe_workflows()]


def get_workflow(engine: Engine, name: str) -> dict[str, Any]:
    """As `workflow get NAME -j`; 404 for a workflow the registry does not know."""
    try:
        return shapes.workflow_json(engine.describe_workflow(name))
    except UnknownWorkflow as error:
        raise ApiError(NOT_FOUND, one_line(error)) from None


# Executions -----------------------------------------------------------------------------


def list_executions(engine: Engine, query: Mapping[str, str]) -> list[dict[str, Any]]:
    """As `workflow executions -j`, newest first; `status`, `name` and `limit` filter."""
    statuses = parse_statuses(query.get("status", ""))
    limit = parse_limit(query.get("limit", ""))
    name = query.get("name") or None
    found = engine.list_executions(name, statuses, limit=limit)
    return [shapes.execution_json(execution) for execution in found]


def get_execution(engine: Engine, execution_id: str) -> dict[str, Any]:
    """As `workflow executions ID -l -j`: the execution with its `jobDetails`."""
    execution = engine.get_execution(execution_id)
    return shapes.execution_json(execution, with_jobs=True)


def resume(engine: Engine, execution_id: str) -> dict[str, Any]:
    """Make a FAILED execution runnable again (a worker runs it) and return it."""
    if engine.project is not None:
        engine.project.raise_for_breaches()
    engine.resume(execution_id)
    return get_execution(engine, execution_id)


def cancel(engine: Engine, execution_id: str) -> dict[str, Any]:
    """Cancel an execution (at once, or at its next job boundary) and return it."""
    engine.cancel(execution_id)
    return get_execution(engine, execution_id)


def parse_statuses(text: str) -> list[str]:
    """`FAILED,waiting` → the statuses in capitals; 400 for an unknown one."""
    wanted = [part.strip().upper() for part in text.split(",") if part.strip()]
    valid = [status.value for status in ExecutionStatus]
    for status in wanted:
        if status not in valid:
            message = f"Unknown status '{status}'. Valid statuses: {', '.join(valid)}."
            raise ApiError(BAD_REQUEST, message)
    return wanted


def parse_limit(text: str) -> int | None:
    """A positive whole number, or None when empty; 400 otherwise."""
    if not text.strip():
        return None
    try:
        limit = int(text)
    except ValueError:
        limit = 0
    if limit < 1:
        raise ApiError(BAD_REQUEST, f"Invalid limit '{text}': give a whole number of at least 1.")
    return limit

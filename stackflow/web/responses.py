"""JSON answers and errors: `{"error": "<one line>"}`, engine errors mapped to HTTP statuses."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from stackflow.errors import (
    ExecutionNotFound,
    NotCancelable,
    NotRestartable,
    NotResumable,
    PayloadTooLarge,
    ProjectLoadError,
    StackflowError,
    StoreError,
    UnknownWorkflow,
    WaitPointError,
)

BAD_REQUEST = 400
UNAUTHORIZED = 401
FORBIDDEN = 403
NOT_FOUND = 404
CONFLICT = 409
CONTENT_TOO_LARGE = 413
SERVER_ERROR = 500
UNAVAILABLE = 503

STATUS_OF_ERROR: tuple[tuple[type[Exception], int], ...] = (
    (ExecutionNotFound, NOT_FOUND),
    (UnknownWorkflow, NOT_FOUND),
    (NotResumable, CONFLICT),
    (NotRestartable, CONFLICT),
    (NotCancelable, CONFLICT),
    (WaitPointError, CONFLICT),
    (ProjectLoadError, CONFLICT),
    (PayloadTooLarge, CONTENT_TOO_LARGE),
    (StoreError, UNAVAILABLE),
    (StackflowError, BAD_REQUEST),
)
"""The first matching class decides; any other StackflowError is bad input (400)."""

JSON_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"}
log = logging.getLogger("stackflow.web")


class ApiError(Exception):
    """A request the app refuses: an HTTP status and one line for `{"error": ...}`."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        self.message = message
        super().__init__(message)


class SafeJSONResponse(JSONResponse):
    """JSON with `<`, `>` and `&` escaped, so job data never reads as markup; never stored."""

    def __init__(
        self, content: Any, status_code: int = 200, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(
            content, status_code, headers={"Cache-Control": "no-store", **(headers or {})}
        )

    def render(self, content: Any) -> bytes:
        text = json.dumps(content, ensure_ascii=False, allow_nan=False)
        for raw, escaped in JSON_ESCAPES.items():
            text = text.replace(raw, escaped)
        return text.encode("utf-8")


def one_line(error: BaseException) -> str:
    """The error's message on one line."""
    return " ".join(str(error).split()) or type(error).__name__


def error_response(
    status: int, message: str, headers: Mapping[str, str] | None = None
) -> SafeJSONResponse:
    """`{"error": message}` with `status`."""
    return SafeJSONResponse({"error": " ".join(message.split())}, status, headers=headers)


def status_of(error: Exception) -> int:
    """The HTTP status of an engine error."""
    for error_type, status in STATUS_OF_ERROR:
        if isinstance(error, error_type):
            return status
    return SERVER_ERROR


async def on_api_error(request: Request, error: Exception) -> Response:
    """An ApiError as its status and message."""
    assert isinstance(error, ApiError)
    return error_response(error.status, error.message)


async def on_engine_error(request: Request, error: Exception) -> Response:
    """A StackflowError from the engine, mapped by STATUS_OF_ERROR."""
    status = status_of(error)
    if status >= SERVER_ERROR:
        log.warning("%s %s: %s", request.method, request.url.path, one_line(error))
    return error_response(status, one_line(error))


async def on_http_error(request: Request, error: Exception) -> Response:
    """Starlette's own refusals (no route, wrong method, body too large) as JSON."""
    assert isinstance(error, HTTPException)
    return error_response(error.status_code, _http_message(request, error), error.headers)


async def on_server_error(request: Request, error: Exception) -> Response:
    """Anything unexpected: logged with its traceback; the answer says only what failed."""
    log.error("%s %s failed", request.method, request.url.path, exc_info=error)
    return error_response(
        SERVER_ERROR, f"Internal error: {type(error).__name__}: {one_line(error)}"
    )


def _http_message(request: Request, error: HTTPException) -> str:
    path = request.url.path
    if error.status_code == NOT_FOUND:
        return f"No API endpoint at {path}." if "/api/" in path else f"Nothing at {path}."
    if error.status_code == 405:
        return f"{request.method} is not supported at {path}."
    if error.status_code == CONTENT_TOO_LARGE:
        return "Request body too large."
    return str(error.detail)

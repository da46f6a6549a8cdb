"""Reading what a request sends: JSON bodies and the executions list's query parameters."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from typing import Any

from starlette.requests import Request

from stackflow.arguments import parse_json_text
from stackflow.errors import JsonValueError
from stackflow.records import ExecutionStatus
from stackflow.web.responses import BAD_REQUEST, ApiError

DEFAULT_PAGE_LIMIT = 50
MAX_PAGE_LIMIT = 1000


async def json_object(request: Request, known: Collection[str]) -> dict[str, Any]:
    """The body as a JSON object with only `known` keys; an empty body is `{}`; else 400."""
    raw = await request.body()
    if not raw.strip():
        return {}
    value = parse_json(raw)
    if not isinstance(value, dict):
        raise ApiError(BAD_REQUEST, 'The request body must be a JSON object, like {"key": 1}.')
    unknown = sorted(set(value) - set(known))
    if unknown:
        listed = ", ".join(sorted(known)) or "none"
        raise ApiError(BAD_REQUEST, f"Unknown key '{unknown[0]}' in the body (known: {listed}).")
    return value


def parse_json(raw: bytes) -> Any:
    """The JSON value of a body; 400 naming where it is malformed."""
    try:
        return parse_json_text(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ApiError(BAD_REQUEST, "Invalid JSON body: it is not UTF-8.") from None
    except JsonValueError as error:
        raise ApiError(BAD_REQUEST, f"Invalid JSON body: {error}.") from None


def optional_string(body: Mapping[str, Any], key: str) -> str | None:
    """`body[key]` when it is a non-empty string, None when absent or null; else 400."""
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise ApiError(BAD_REQUEST, f"'{key}' must be a non-empty string, got {json.dumps(value)}.")
    return value


def statuses(text: str) -> list[str]:
    """`FAILED,waiting` → the statuses in capitals; 400 for an unknown one."""
    wanted = [part.strip().upper() for part in text.split(",") if part.strip()]
    valid = [status.value for status in ExecutionStatus]
    for status in wanted:
        if status not in valid:
            raise ApiError(
                BAD_REQUEST, f"Invalid status: {status}. Valid values: {', '.join(valid)}"
            )
    return wanted


def page_limit(text: str | None) -> int:
    """A whole number from 1 to MAX_PAGE_LIMIT (DEFAULT_PAGE_LIMIT when absent); else 400."""
    if text is None or not text.strip():
        return DEFAULT_PAGE_LIMIT
    try:
        limit = int(text)
    except ValueError:
        limit = 0
    if not 1 <= limit <= MAX_PAGE_LIMIT:
        raise ApiError(
            BAD_REQUEST,
            f"Invalid limit '{text}': give a whole number from 1 to {MAX_PAGE_LIMIT}.",
        )
    return limit

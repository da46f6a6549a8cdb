"""The JSON boundary: canonical encoding, the round trip, and path-naming errors."""

from __future__ import annotations

import dataclasses
import json
import math
import re
import sys
from datetime import UTC, date, datetime
from typing import Any

from stackflow.errors import JsonValueError

JsonValue = Any
"""A value made only of dict (str keys), list, str, int, float, bool and None."""


def format_datetime(value: datetime) -> str:
    """Render a datetime as UTC `YYYY-MM-DDTHH:MM:SS.mmmZ` (naive is taken as UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    fields = _record_fields(value)
    if fields is None:
        raise TypeError
    return fields


def _record_fields(value: Any) -> dict[str, Any] | None:
    """The fields of a dataclass instance or a pydantic model (typed jobs' values), or None."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: getattr(value, field.name) for field in dataclasses.fields(value)}
    dump = getattr(value, "model_dump", None)
    if callable(dump) and hasattr(type(value), "model_fields"):
        fields: dict[str, Any] = dump()
        return fields
    return None


_ENCODER = json.JSONEncoder(
    default=_default,
    sort_keys=True,
    separators=(",", ":"),
    ensure_ascii=False,
    allow_nan=False,
)
_DECODER = json.JSONDecoder()
_SURROGATE = re.compile("[\ud800-\udfff]")


def valid_text(text: str) -> str:
    """`text` storable as UTF-8: a lone surrogate becomes its escape (`\\ud800`)."""
    if text.isascii() or _SURROGATE.search(text) is None:
        return text
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def encode(value: Any, *, what: str = "value") -> str:
    """Encode `value` as canonical JSON text (sorted keys, compact).

    Raises JsonValueError naming `what`, the path inside the value and the
    type found when the value is not JSON.
    """
    try:
        text = _ENCODER.encode(value)
    except (TypeError, ValueError, RecursionError):
        try:
            found = _find_non_json(value, "<root>", set())
        except RecursionError:
            raise JsonValueError(f"{what} is not JSON: it nests too deeply") from None
        path, kind = found or ("<root>", type(value).__name__)
        problem = kind if kind.startswith(_TOO_LONG) else f"{kind} is not a JSON type"
        raise JsonValueError(f"{what} is not JSON: at {path}: {problem}") from None
    if not text.isascii() and _SURROGATE.search(text) is not None:
        raise JsonValueError(
            f"{what} is not valid UTF-8: a string in it holds a lone surrogate such as '\\ud800'"
        )
    return text


_SCAN = _DECODER.scan_once  # type: ignore[attr-defined]


def decode(text: str) -> JsonValue:
    """Decode JSON text produced by encode().

    Canonical text has no surrounding whitespace, so the C scanner is called
    directly; anything else takes the full (validating) decoder.
    """
    try:
        value, end = _SCAN(text, 0)
    except StopIteration:
        return _DECODER.decode(text)
    return value if end == len(text) else _DECODER.decode(text)


def round_trip(value: Any, *, what: str = "value") -> JsonValue:
    """Return `value` as it comes back from a JSON round trip."""
    return decode(encode(value, what=what))


_TOO_LONG = "an integer with more than"


def _too_long(value: int) -> bool:
    """Whether Python refuses to write `value` as decimal text (sys.set_int_max_str_digits)."""
    limit = sys.get_int_max_str_digits()
    return limit > 0 and abs(value) >= 10**limit


def _child_path(parent: str, key: object) -> str:
    if isinstance(key, int):
        return f"{'' if parent == '<root>' else parent}[{key}]"
    return str(key) if parent == "<root>" else f"{parent}.{key}"


def _find_non_json(value: Any, path: str, seen: set[int]) -> tuple[str, str] | None:
    """Return (path, type description) of the first non-JSON part of value, or None."""
    if isinstance(value, int) and _too_long(value):
        return path, f"{_TOO_LONG} {sys.get_int_max_str_digits()} digits (send it as a string)"
    if value is None or isinstance(value, str | bool | int | date):
        return None
    fields = _record_fields(value)
    if fields is not None:
        return _find_non_json(fields, path, seen)
    if isinstance(value, float):
        return (path, f"float {value!r}") if math.isnan(value) or math.isinf(value) else None
    if isinstance(value, dict | list | tuple):
        if id(value) in seen:
            return path, f"circular {type(value).__name__}"
        seen.add(id(value))
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            if not isinstance(key, str | int):
                return path, f"dict key of type {type(key).__name__}"
            found = _find_non_json(item, _child_path(path, key), seen)
            if found:
                return found
        seen.discard(id(value))
        return None
    return path, type(value).__name__

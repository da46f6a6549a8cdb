"""Values against field kinds: checking what is written, normalizing what is read."""

from __future__ import annotations

import datetime
import math
import uuid
from typing import TYPE_CHECKING, Any

from stackflow.tailordb.errors import InvalidValue

if TYPE_CHECKING:
    from stackflow.tailordb.fields import Field

INT_MIN, INT_MAX = -(2**63), 2**63 - 1
"""An int field holds a signed 64-bit integer (BIGINT on both backends)."""

_EXPECTED = {
    "string": "a string",
    "int": "an integer between -2**63 and 2**63 - 1 (64 bits)",
    "float": "a finite number that fits a 64-bit float",
    "bool": "a boolean",
    "uuid": "a UUID string",
    "datetime": "a datetime (or an ISO 8601 string)",
    "date": "a date (or a YYYY-MM-DD string)",
    "json": "a JSON value",
}


def _fail(field: Field, value: object, what: str) -> InvalidValue:
    expected = _EXPECTED.get(field.kind) or "one of " + ", ".join(repr(v) for v in field.values)
    shown = repr(value)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return InvalidValue(f"{what} must be {expected}, got {type(value).__name__} {shown}")


def _has_nul(value: object) -> bool:
    """Whether a string anywhere in `value` (a JSON key too) holds a NUL character."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list | tuple):
        return any(_has_nul(item) for item in value)
    if isinstance(value, dict):
        return any(_has_nul(key) or _has_nul(item) for key, item in value.items())
    return False


def _float(value: object) -> float | None:
    """`value` as a finite float (None: not a number, or too large for one)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def _datetime(value: object) -> datetime.datetime | None:
    if isinstance(value, str):
        try:
            value = datetime.datetime.fromisoformat(value)
        except ValueError:
            return None
    if not isinstance(value, datetime.datetime):
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=datetime.UTC)
    return value.astimezone(datetime.UTC)


def _date(value: object) -> datetime.date | None:
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            return None
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        return value
    return None


def _uuid(value: object) -> str | None:
    if isinstance(value, uuid.UUID):
        return str(value)
    if not isinstance(value, str):
        return None
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


def _json_ok(value: object) -> bool:
    if value is None or isinstance(value, str | bool | int):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list | tuple):
        return all(_json_ok(item) for item in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _json_ok(v) for k, v in value.items())
    return False


def _scalar(field: Field, value: object) -> tuple[bool, Any]:
    """(ok, normalized value) for a non-null value of this field's kind."""
    kind = field.kind
    if kind == "string":
        return isinstance(value, str), value
    if kind == "int":
        ok = isinstance(value, int) and not isinstance(value, bool)
        return ok and INT_MIN <= value <= INT_MAX, value  # type: ignore[operator]
    if kind == "float":
        number = _float(value)
        return number is not None, number
    if kind == "bool":
        return isinstance(value, bool), value
    if kind == "enum":
        return value in field.values and isinstance(value, str), value
    if kind == "json":
        return _json_ok(value), value
    converted = {"uuid": _uuid, "datetime": _datetime, "date": _date}[kind](value)
    return converted is not None, converted


def check_value(field: Field, value: object, what: str, *, allow_null: bool | None = None) -> Any:
    """`value` normalized for writing into `field`; InvalidValue naming `what` if it does not fit.

    `allow_null` defaults to whether the field is optional.
    """
    if value is None and field.kind != "json":
        if field.is_optional if allow_null is None else allow_null:
            return None
        raise InvalidValue(f"{what} is required (the field is not optional), got None")
    ok, normalized = _scalar(field, value)
    if not ok:
        raise _fail(field, value, what)
    if field.kind in ("string", "json") and _has_nul(value):
        raise nul_refused(what)
    return normalized


def nul_refused(what: str) -> InvalidValue:
    """The refusal of a NUL character: PostgreSQL cannot store one, and SQLite refuses it alike."""
    return InvalidValue(
        f"{what} contains a NUL character (\\x00), which text and json values cannot hold: "
        "remove it, or encode the data (e.g. base64) first"
    )


def read_value(field: Field, value: Any) -> Any:
    """A value read from the database as the field's kind (datetimes aware, in UTC)."""
    if value is None:
        return None
    if field.kind == "datetime" and isinstance(value, datetime.datetime):
        return _datetime(value)
    if field.kind == "uuid":
        return str(value)
    if field.kind == "bool" and isinstance(value, int):
        return bool(value)
    return value

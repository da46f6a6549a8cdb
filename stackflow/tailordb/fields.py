"""Field declarations: the kinds (`db.string()`, ...) and their modifiers."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from stackflow.tailordb.errors import TypeDeclarationError
from stackflow.tailordb.values import check_value

KINDS = ("string", "int", "float", "bool", "uuid", "datetime", "date", "enum", "json")


@dataclass(frozen=True)
class Field:
    """One declared field: its kind and modifiers. Modifiers return a new Field."""

    kind: str
    is_optional: bool = False
    is_unique: bool = False
    is_indexed: bool = False
    has_default: bool = False
    default_value: Any = None
    values: tuple[str, ...] = ()
    description: str | None = None

    def optional(self) -> Field:
        """The field may be null (absent on insert)."""
        return replace(self, is_optional=True)

    def unique(self) -> Field:
        """No two rows may share a value (a unique index)."""
        return replace(self, is_unique=True)

    def index(self) -> Field:
        """Add an index on this field."""
        return replace(self, is_indexed=True)

    def default(self, value: Any) -> Field:
        """The value used on insert when the field is not given."""
        check_value(self, value, "default value")
        return replace(self, has_default=True, default_value=value)

    def describe(self, text: str) -> Field:
        """Attach a description (shown in generated code)."""
        return replace(self, description=text)

    @property
    def python_type(self) -> str:
        """The Python annotation of this field's values (for generated code)."""
        base = {
            "string": "str",
            "int": "int",
            "float": "float",
            "bool": "bool",
            "uuid": "str",
            "datetime": "datetime.datetime",
            "date": "datetime.date",
            "json": "Any",
        }.get(self.kind)
        if base is None:  # enum
            base = "Literal[" + ", ".join(repr(v) for v in self.values) + "]"
        return f"{base} | None" if self.is_optional and base != "Any" else base


# automatic fields, on every type
ID_FIELD = Field("uuid")
CREATED_AT_FIELD = Field("datetime")
UPDATED_AT_FIELD = Field("datetime", is_optional=True)
AUTOMATIC_FIELDS = {"id": ID_FIELD, "createdAt": CREATED_AT_FIELD, "updatedAt": UPDATED_AT_FIELD}


def enum_field(values: Sequence[str]) -> Field:
    """An enum field of these string values."""
    if isinstance(values, str):
        values = (values,)
    if not values or not all(isinstance(v, str) and v for v in values):
        raise TypeDeclarationError(
            f"db.enum(...) takes one or more non-empty strings, got {list(values)!r}"
        )
    if len(set(values)) != len(values):
        raise TypeDeclarationError(f"db.enum(...) lists a value twice: {list(values)!r}")
    return Field("enum", values=tuple(values))


def utc_now() -> datetime.datetime:
    """The current time, timezone-aware UTC, at millisecond precision."""
    now = datetime.datetime.now(datetime.UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)

"""Type declarations: `db.type("Customer", {...})` and the field-kind builders on `db`."""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping, Sequence
from typing import Any, NoReturn

from stackflow.tailordb.errors import TypeDeclarationError
from stackflow.tailordb.fields import AUTOMATIC_FIELDS, KINDS, Field, enum_field

OPERATIONS = ("create", "read", "update", "delete")
NAME_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,62}$")
STORE_TABLES = frozenset(
    {"executions", "execution_payloads", "job_executions", "job_payloads", "workflows", "workers"}
)

Condition = Mapping[str, Any]
Permission = dict[str, tuple[Condition, ...]]


class TailorType:
    """A declared type: a table with `id`, the declared fields, `createdAt` and `updatedAt`."""

    def __init__(
        self,
        name: str,
        fields: Mapping[str, Field],
        *,
        description: str | None = None,
        permission: Permission | None = None,
        defined_at: tuple[str, int] | None = None,
    ) -> None:
        self.name = name
        self.declared = dict(fields)
        self.description = description
        self.permission = permission
        self.defined_at = defined_at

    @property
    def fields(self) -> dict[str, Field]:
        """Every column: `id`, the declared fields, `createdAt`, `updatedAt`."""
        return {
            "id": AUTOMATIC_FIELDS["id"],
            **self.declared,
            "createdAt": AUTOMATIC_FIELDS["createdAt"],
            "updatedAt": AUTOMATIC_FIELDS["updatedAt"],
        }

    def __repr__(self) -> str:
        return f"<TailorType {self.name!r} fields={list(self.declared)}>"


def _check_name(what: str, name: object) -> str:
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise TypeDeclarationError(
            f"{what} {name!r} is not a valid name: use letters, digits and _ "
            "(starting with a letter, at most 63 characters)"
        )
    return name


def _check_fields(type_name: str, fields: object) -> dict[str, Field]:
    if not isinstance(fields, Mapping):
        raise TypeDeclarationError(
            f"db.type({type_name!r}, ...) takes a dict of fields, got {type(fields).__name__}"
        )
    checked: dict[str, Field] = {}
    for name, field in fields.items():
        _check_name(f"field of type {type_name!r}", name)
        if name in AUTOMATIC_FIELDS:
            raise TypeDeclarationError(
                f"type {type_name!r} declares {name!r}, which every type gets automatically "
                f"({', '.join(AUTOMATIC_FIELDS)}): remove it from the fields"
            )
        if not isinstance(field, Field):
            raise TypeDeclarationError(
                f"field {name!r} of type {type_name!r} must be declared with a field kind "
                f"(db.{', db.'.join(KINDS)}), e.g. db.string(); got {field!r}"
            )
        checked[name] = field
    return checked


def _check_condition(type_name: str, operation: str, condition: object) -> Condition:
    if not isinstance(condition, Mapping) or not all(isinstance(k, str) for k in condition):
        raise TypeDeclarationError(
            f"permission {operation!r} of type {type_name!r}: each condition is a dict of "
            f"invoker attributes, like {{'role': 'ADMIN'}}; got {condition!r}"
        )
    return dict(condition)


def _check_permission(type_name: str, permission: object) -> Permission | None:
    if permission is None:
        return None
    if not isinstance(permission, Mapping):
        raise TypeDeclarationError(
            f"permission of type {type_name!r} must be a dict with keys {', '.join(OPERATIONS)}"
        )
    unknown = sorted(set(permission) - set(OPERATIONS))
    missing = [op for op in OPERATIONS if op not in permission]
    if unknown or missing:
        problem = f"unknown {unknown}" if unknown else f"missing {missing}"
        raise TypeDeclarationError(
            f"permission of type {type_name!r} needs exactly the keys "
            f"{', '.join(OPERATIONS)} ({problem}); use [{{}}] to allow every machine user "
            "and [] to allow none"
        )
    checked: Permission = {}
    for operation in OPERATIONS:
        conditions = permission[operation]
        if isinstance(conditions, Mapping) or not isinstance(conditions, Sequence):
            raise TypeDeclarationError(
                f"permission {operation!r} of type {type_name!r} must be a list of conditions, "
                f"like [{{'role': 'ADMIN'}}]; got {conditions!r}"
            )
        checked[operation] = tuple(_check_condition(type_name, operation, c) for c in conditions)
    return checked


class TypeBuilder:
    """The `db` object of type files: field kinds and `db.type(...)`."""

    def string(self) -> Field:
        """A text field."""
        return Field("string")

    def int(self) -> Field:
        """A 64-bit integer field."""
        return Field("int")

    def float(self) -> Field:
        """A double-precision number field."""
        return Field("float")

    def bool(self) -> Field:
        """A boolean field."""
        return Field("bool")

    def uuid(self) -> Field:
        """A UUID field (stored and returned as its canonical string)."""
        return Field("uuid")

    def datetime(self) -> Field:
        """A timestamp field (returned timezone-aware, UTC)."""
        return Field("datetime")

    def date(self) -> Field:
        """A calendar date field."""
        return Field("date")

    def enum(self, *values: str | Sequence[str]) -> Field:
        """A field holding one of these strings: `db.enum("NEW", "PAID")`."""
        flat: list[Any] = []
        for value in values:
            flat.extend([value] if isinstance(value, str) else value)
        return enum_field(flat)

    def json(self) -> Field:
        """A field holding any JSON value."""
        return Field("json")

    def type(
        self,
        name: str,
        fields: Mapping[str, Field],
        *,
        description: str | None = None,
        permission: Mapping[str, Sequence[Condition]] | None = None,
    ) -> TailorType:
        """Declare a type (a table). Bind it to a module-level name in a type file."""
        _check_name("type name", name)
        if name.lower() in STORE_TABLES or name.lower().startswith("stackflow"):
            raise TypeDeclarationError(
                f"type name {name!r} is reserved for stackflow's own tables: choose another"
            )
        caller = sys._getframe(1)
        return TailorType(
            name,
            _check_fields(name, fields),
            description=description,
            permission=_check_permission(name, permission),
            defined_at=(caller.f_code.co_filename, caller.f_lineno),
        )

    def __getattr__(self, name: str) -> NoReturn:
        if name.startswith("__"):
            raise AttributeError(name)
        raise TypeDeclarationError(
            f"unknown field kind db.{name}(): the kinds are {', '.join(KINDS)}"
        )


db = TypeBuilder()
"""Declare types with it: `db.type("Customer", {"name": db.string()})`."""

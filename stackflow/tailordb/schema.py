"""SQLAlchemy tables for declared types: column types, nullability, indexes."""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect

from stackflow.tailordb.fields import Field
from stackflow.tailordb.types import TailorType

MAX_IDENTIFIER_LENGTH = 63
KIND_FAMILIES = {"uuid": "string", "enum": "string"}


class UtcDateTime(sa.TypeDecorator[datetime.datetime]):
    """A timestamp stored in UTC and read back timezone-aware (naive input is taken as UTC)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(
        self, value: datetime.datetime | None, dialect: Dialect
    ) -> datetime.datetime | None:
        if value is None:
            return None
        value = value.replace(tzinfo=datetime.UTC) if value.tzinfo is None else value
        value = value.astimezone(datetime.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(
        self, value: datetime.datetime | None, dialect: Dialect
    ) -> datetime.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=datetime.UTC)
        return value.astimezone(datetime.UTC)


def column_type(field: Field) -> sa.types.TypeEngine[Any]:
    """The SQLAlchemy type of a field's column."""
    if field.kind in ("string", "enum"):
        return sa.Text()
    if field.kind == "uuid":
        return sa.String(36)
    if field.kind == "int":
        return sa.BigInteger()
    if field.kind == "float":
        return sa.Double()
    if field.kind == "bool":
        return sa.Boolean(create_constraint=False)
    if field.kind == "datetime":
        return UtcDateTime()
    if field.kind == "date":
        return sa.Date()
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def kind_family(kind: str) -> str:
    """Kinds stored alike share a family (uuid and enum are strings)."""
    return KIND_FAMILIES.get(kind, kind)


def type_family(column_type: sa.types.TypeEngine[Any]) -> str | None:
    """The kind family of a reflected column type (None when unknown)."""
    checks: Iterable[tuple[type[Any], str]] = (
        (sa.Boolean, "bool"),
        (sa.Integer, "int"),
        (sa.Float, "float"),
        (sa.Numeric, "float"),
        (sa.DateTime, "datetime"),
        (sa.Date, "date"),
        (sa.JSON, "json"),
        (sa.String, "string"),
    )
    for sa_type, family in checks:
        if isinstance(column_type, sa_type):
            return family
    return None


def index_name(prefix: str, table: str, column: str) -> str:
    """A deterministic index name that fits PostgreSQL's 63-character limit."""
    name = f"{prefix}_{table}_{column}"
    if len(name) <= MAX_IDENTIFIER_LENGTH:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[: MAX_IDENTIFIER_LENGTH - 9]}_{digest}"


def column_nullable(field: Field, name: str, dialect_name: str) -> bool:
    """Whether the column accepts NULL in the database.

    SQLite cannot change a column's NULL constraint in place, so there every
    declared field's column accepts NULL and stackflow enforces "required".
    """
    if name == "id":
        return False
    if dialect_name == "sqlite" and name != "createdAt":
        return True
    return field.is_optional


def build_table(metadata: sa.MetaData, tailor_type: TailorType, dialect_name: str) -> sa.Table:
    """The table of a type, with its unique and plain indexes."""
    columns = [
        sa.Column(
            name,
            column_type(field),
            primary_key=name == "id",
            nullable=column_nullable(field, name, dialect_name),
        )
        for name, field in tailor_type.fields.items()
    ]
    table = sa.Table(tailor_type.name, metadata, *columns)
    for name, field in tailor_type.declared.items():
        if field.is_unique:
            sa.Index(index_name("uq", table.name, name), table.c[name], unique=True)
        elif field.is_indexed:
            sa.Index(index_name("ix", table.name, name), table.c[name])
    return table


def build_metadata(types: Iterable[TailorType], dialect_name: str) -> sa.MetaData:
    """A MetaData holding the table of every type."""
    metadata = sa.MetaData()
    for tailor_type in types:
        build_table(metadata, tailor_type, dialect_name)
    return metadata

"""Running one statement on a namespace connection, with database errors made readable."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from stackflow.tailordb.errors import InvalidValue, TailorDBError, UniqueViolation
from stackflow.tailordb.expressions import ColumnResolver
from stackflow.tailordb.query import Outcome


def execute(conn: Connection, statement: sa.Executable, resolver: ColumnResolver) -> Outcome:
    """The rows (read at once) and count of `statement`; UniqueViolation, InvalidValue or
    TailorDBError naming the type when the database refuses it."""
    try:
        result = conn.execute(statement)
        rows: list[Mapping[str, Any]] = (
            [dict(row._mapping) for row in result] if result.returns_rows else []
        )
        return Outcome(rows, max(result.rowcount, 0) if not result.returns_rows else len(rows))
    except sa.exc.IntegrityError as error:
        raise _integrity_error(error, resolver) from None
    except sa.exc.DBAPIError as error:
        raise TailorDBError(
            f"the database refused a statement on '{resolver.type.name}': {error.orig}"
        ) from None


def _integrity_error(error: sa.exc.IntegrityError, resolver: ColumnResolver) -> TailorDBError:
    name = resolver.type.name
    column = _unique_column(error, resolver)
    if column is not None:
        return UniqueViolation(
            f"unique violation: another '{name}' row already has this {column!r} value "
            f"('{name}.{column}' is unique)"
        )
    return InvalidValue(f"the database refused a write to '{name}': {error.orig}")


def _unique_column(error: sa.exc.IntegrityError, resolver: ColumnResolver) -> str | None:
    original = error.orig
    if getattr(original, "sqlstate", None) == "23505":
        constraint = getattr(getattr(original, "diag", None), "constraint_name", None)
        for index in resolver.table.indexes:
            if index.name == constraint:
                return str(next(iter(index.columns)).name)
        return "id"
    text = str(original)
    marker = "UNIQUE constraint failed: "
    if marker in text:
        return text.split(marker, 1)[1].split(",")[0].split(".")[-1].strip()
    return None

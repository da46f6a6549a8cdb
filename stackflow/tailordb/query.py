"""The Kysely-style query builders: select, insert, update and delete on one table."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import sqlalchemy as sa

from stackflow.tailordb.errors import InvalidValue, NoResultError, UnknownIdentifier
from stackflow.tailordb.expressions import ColumnResolver, where_clause
from stackflow.tailordb.fields import AUTOMATIC_FIELDS, utc_now
from stackflow.tailordb.values import check_value, read_value

Row = dict[str, Any]
Q = TypeVar("Q", bound="_Query")


@dataclass(frozen=True)
class Outcome:
    """What a statement returned: its rows (read before the connection is released), its count."""

    rows: list[Mapping[str, Any]]
    rowcount: int


class Runner(Protocol):
    """Runs a statement on the namespace's connection and maps database errors."""

    def run(self, statement: sa.Executable, resolver: ColumnResolver) -> Outcome:
        """Execute `statement` on the current connection (or a fresh transaction)."""
        ...

    def write(
        self, op: str, statement: Any, returning: list[str] | None, resolver: ColumnResolver
    ) -> Outcome:
        """Execute an insert, update or delete (op `create`, `update`, `delete`), returning
        the `returning` columns of the written rows (None: only their count)."""
        ...


def with_returning(statement: Any, table: sa.Table, columns: list[str] | None) -> Any:
    """`statement` returning these columns of the written rows (None: as it is)."""
    if columns is None:
        return statement
    return statement.returning(*(table.c[name] for name in columns))


class _Query:
    """What every builder shares: the table, its runner and how rows are read."""

    def __init__(self, runner: Runner, resolver: ColumnResolver) -> None:
        self._runner = runner
        self._resolver = resolver
        self._returning: list[str] | None = None

    def _copy(self: Q) -> Q:
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__)
        return clone

    def _columns(self, names: Sequence[Any]) -> list[str]:
        if len(names) == 1 and isinstance(names[0], list | tuple):
            names = names[0]
        return [self._resolver.column(name).name for name in names]

    def _rows(self, outcome: Outcome) -> list[Row]:
        fields = self._resolver.type.fields
        return [
            {key: read_value(fields[key], value) for key, value in row.items()}
            for row in outcome.rows
        ]

    def _not_found(self) -> NoResultError:
        return NoResultError(f"no row of '{self._resolver.type.name}' matched the query")

    def execute_take_first(self) -> Row | None:
        """The first row the query gives, or None (each builder says which rows)."""
        raise NotImplementedError

    def execute_take_first_or_throw(self) -> Row:
        """The first row, as execute_take_first; NoResultError when there is none."""
        row = self.execute_take_first()
        if row is None:
            raise self._not_found()
        return row


class _Filtered(_Query):
    def __init__(self, runner: Runner, resolver: ColumnResolver) -> None:
        super().__init__(runner, resolver)
        self._conditions: list[sa.ColumnElement[bool]] = []

    def where(self: Q, *args: Any) -> Q:
        """Add a condition (chained conditions are ANDed): `where("id", "=", x)` or a callable."""
        clone = self._copy()
        clone._conditions = [*clone._conditions, where_clause(clone._resolver, args)]  # type: ignore[attr-defined]
        return clone


class _Returning(_Filtered):
    def returning_all(self: Q) -> Q:
        """Return every column of the written rows."""
        clone = self._copy()
        clone._returning = list(self._resolver.type.fields)
        return clone

    def returning(self: Q, *columns: Any) -> Q:
        """Return these columns of the written rows: `returning(["id"])` or `returning("id")`."""
        clone = self._copy()
        clone._returning = self._columns(columns)
        return clone

    _op = ""
    """The record operation this builder writes: create, update or delete."""

    def _execute(self, statement: Any) -> list[Row] | int:
        outcome = self._runner.write(self._op, statement, self._returning, self._resolver)
        if self._returning is None:
            return outcome.rowcount
        return self._rows(outcome)

    def execute_take_first(self) -> Row | None:
        """The first returned row (needs returning...), or None."""
        rows = self.execute()  # type: ignore[attr-defined]
        if isinstance(rows, int):
            raise InvalidValue("execute_take_first() needs returning_all() or returning([...])")
        return rows[0] if rows else None


class SelectQuery(_Filtered):
    """`select_from(table)`: columns, conditions, order, limit, offset, locking."""

    def __init__(self, runner: Runner, resolver: ColumnResolver) -> None:
        super().__init__(runner, resolver)
        self._selected: list[str] = []
        self._order: list[sa.ColumnElement[Any]] = []
        self._limit: int | None = None
        self._offset: int | None = None
        self._for_update = False

    def select_all(self) -> SelectQuery:
        """Select every column."""
        clone = self._copy()
        clone._selected = list(self._resolver.type.fields)
        return clone

    def select(self, *columns: Any) -> SelectQuery:
        """Select these columns: `select(["id", "name"])` or `select("id", "name")`."""
        clone = self._copy()
        clone._selected = [*self._selected, *self._columns(columns)]
        return clone

    def order_by(self, column: str, direction: str = "asc") -> SelectQuery:
        """Order by a column, `"asc"` (default) or `"desc"`; chained calls add keys."""
        sa_column = self._resolver.column(column)
        if not isinstance(direction, str) or direction.lower() not in ("asc", "desc"):
            raise UnknownIdentifier(f"unknown order direction {direction!r}; use 'asc' or 'desc'")
        clone = self._copy()
        key = sa_column.desc() if direction.lower() == "desc" else sa_column.asc()
        clone._order = [*self._order, key]
        return clone

    def limit(self, count: int) -> SelectQuery:
        """Return at most `count` rows."""
        clone = self._copy()
        clone._limit = _count("limit", count)
        return clone

    def offset(self, count: int) -> SelectQuery:
        """Skip the first `count` rows."""
        clone = self._copy()
        clone._offset = _count("offset", count)
        return clone

    def for_update(self) -> SelectQuery:
        """Lock the selected rows until the transaction ends (PostgreSQL; SQLite locks all)."""
        clone = self._copy()
        clone._for_update = True
        return clone

    def statement(self) -> sa.Select[Any]:
        """The SQLAlchemy statement this query runs."""
        names = self._selected or list(self._resolver.type.fields)
        table = self._resolver.table
        statement = sa.select(*(table.c[n] for n in dict.fromkeys(names))).where(*self._conditions)
        statement = statement.order_by(*self._order).limit(self._limit).offset(self._offset)
        return statement.with_for_update() if self._for_update else statement

    def execute(self) -> list[Row]:
        """Every matching row, as dicts."""
        return self._rows(self._runner.run(self.statement(), self._resolver))

    def execute_take_first(self) -> Row | None:
        """The first matching row, or None."""
        rows = self.limit(1).execute() if self._limit is None else self.execute()
        return rows[0] if rows else None


class InsertQuery(_Returning):
    """`insert_into(table).values(...)`: `id`, `createdAt` and defaults are filled in."""

    _op = "create"

    def __init__(self, runner: Runner, resolver: ColumnResolver) -> None:
        super().__init__(runner, resolver)
        self._values: list[Row] = []

    def values(self, rows: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> InsertQuery:
        """The row (a dict) or rows (a list of dicts) to insert."""
        if isinstance(rows, Mapping):
            rows = [rows]
        clone = self._copy()
        clone._values = [*self._values, *(self._row(row) for row in rows)]
        return clone

    def _row(self, values: Mapping[str, Any]) -> Row:
        if not isinstance(values, Mapping):
            raise InvalidValue(f"values() takes a dict or a list of dicts, got {values!r}")
        tailor_type = self._resolver.type
        for name in values:
            self._resolver.column(name)
            if name in ("createdAt", "updatedAt"):
                raise InvalidValue(f"'{tailor_type.name}.{name}' is set by stackflow, not given")
        now = utc_now()
        row: Row = {"id": str(uuid.uuid4()), "createdAt": now, "updatedAt": None}
        for name, field in tailor_type.fields.items():
            what = f"'{tailor_type.name}.{name}'"
            if name in values:
                row[name] = check_value(field, values[name], what)
            elif name not in AUTOMATIC_FIELDS:
                if not field.has_default and not field.is_optional:
                    raise InvalidValue(f"{what} is required but was not given")
                row[name] = field.default_value if field.has_default else None
        return row

    def execute(self) -> list[Row] | int:
        """Insert; the returned rows with returning..., else the number of rows inserted."""
        if not self._values:
            raise InvalidValue("insert_into(...) has no values(): nothing to insert")
        written = self._execute(sa.insert(self._resolver.table).values(self._values))
        return len(self._values) if isinstance(written, int) else written


class UpdateQuery(_Returning):
    """`update_table(table).set({...}).where(...)`: `updatedAt` is set to now."""

    _op = "update"

    def __init__(self, runner: Runner, resolver: ColumnResolver) -> None:
        super().__init__(runner, resolver)
        self._set: Row = {}

    def set(self, values: Mapping[str, Any]) -> UpdateQuery:
        """The new values of these columns."""
        if not isinstance(values, Mapping):
            raise InvalidValue(f"set() takes a dict of column values, got {values!r}")
        tailor_type = self._resolver.type
        checked: Row = {}
        for name, value in values.items():
            self._resolver.column(name)
            if name in AUTOMATIC_FIELDS:
                raise InvalidValue(f"'{tailor_type.name}.{name}' is set by stackflow, not updated")
            what = f"'{tailor_type.name}.{name}'"
            checked[name] = check_value(tailor_type.fields[name], value, what)
        clone = self._copy()
        clone._set = {**self._set, **checked}
        return clone

    def execute(self) -> list[Row] | int:
        """Update; the returned rows with returning..., else the number of rows updated."""
        if not self._set:
            raise InvalidValue("update_table(...) has no set({...}): nothing to update")
        table = self._resolver.table
        values = {**self._set, "updatedAt": utc_now()}
        return self._execute(sa.update(table).where(*self._conditions).values(values))


class DeleteQuery(_Returning):
    """`delete_from(table).where(...)`."""

    _op = "delete"

    def execute(self) -> list[Row] | int:
        """Delete; the returned rows with returning..., else the number of rows deleted."""
        return self._execute(sa.delete(self._resolver.table).where(*self._conditions))


def _count(what: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidValue(f"{what}() takes a whole number >= 0, got {value!r}")
    return value

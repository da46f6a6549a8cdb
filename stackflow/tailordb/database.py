"""`Db`: the query builder root of one namespace, its connections and transactions."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from stackflow.definitions.runner import current_runner
from stackflow.tailordb.engines import IMMEDIATE_OPTION
from stackflow.tailordb.errors import InvalidValue, TailorDBError, UniqueViolation
from stackflow.tailordb.expressions import ColumnResolver
from stackflow.tailordb.permissions import Access
from stackflow.tailordb.query import DeleteQuery, InsertQuery, Outcome, SelectQuery, UpdateQuery
from stackflow.tailordb.registry import Namespace

T = TypeVar("T")

_Open = tuple[int, Connection, object]
_open_transactions: ContextVar[tuple[_Open, ...]] = ContextVar(
    "stackflow_tailordb_transactions", default=()
)


def active_connection(namespace: Namespace) -> Connection | None:
    """The connection of the transaction this job (or script) has open on `namespace`."""
    owner = current_runner.get()
    for key, conn, opened_by in reversed(_open_transactions.get()):
        if key == id(namespace) and opened_by is owner:
            return conn
    return None


@contextmanager
def namespace_transaction(namespace: Namespace) -> Iterator[Connection]:
    """Open a transaction on `namespace` that `get_db` in this job or script will use."""
    with namespace.engine.connect() as conn:
        conn.execution_options(**{IMMEDIATE_OPTION: True})
        with conn.begin():
            entry = (id(namespace), conn, current_runner.get())
            token = _open_transactions.set((*_open_transactions.get(), entry))
            try:
                yield conn
            finally:
                _open_transactions.reset(token)


class Transaction:
    """`db.transaction()`: `with db.transaction() as trx:` or `.execute(lambda trx: ...)`."""

    def __init__(self, db: Db) -> None:
        self._db = db
        self._stack: list[Any] = []

    def __enter__(self) -> Db:
        active = active_connection(self._db.namespace)
        if active is not None:
            savepoint = active.begin_nested()
            self._stack.append(savepoint)
            return Db(self._db.namespace, self._db.access)
        context = namespace_transaction(self._db.namespace)
        context.__enter__()
        self._stack.append(context)
        return Db(self._db.namespace, self._db.access)

    def __exit__(self, *exc: Any) -> None:
        entry = self._stack.pop()
        if isinstance(entry, sa.NestedTransaction):
            if exc[0] is None:
                entry.commit()
            else:
                entry.rollback()
            return
        entry.__exit__(*exc)

    def execute(self, body: Callable[[Db], T]) -> T:
        """Run `body(trx)` in the transaction: committed if it returns, rolled back if it raises."""
        with self as trx:
            return body(trx)


class Db:
    """The query builder of one namespace: `select_from`, `insert_into`, `update_table`, ..."""

    def __init__(self, namespace: Namespace, access: Access) -> None:
        self.namespace = namespace
        self.access = access

    def _resolver(self, table: str, operation: str) -> ColumnResolver:
        tailor_type, sa_table = self.namespace.table(table)
        self.access.check(tailor_type, operation)
        return ColumnResolver(tailor_type, sa_table)

    def select_from(self, table: str) -> SelectQuery:
        """A select on `table` (every column unless `select(...)` narrows it)."""
        return SelectQuery(self, self._resolver(table, "read"))

    def insert_into(self, table: str) -> InsertQuery:
        """An insert into `table`; give rows with `.values(...)`."""
        return InsertQuery(self, self._resolver(table, "create"))

    def update_table(self, table: str) -> UpdateQuery:
        """An update of `table`; give new values with `.set({...})`."""
        return UpdateQuery(self, self._resolver(table, "update"))

    def delete_from(self, table: str) -> DeleteQuery:
        """A delete from `table`; narrow it with `.where(...)`."""
        return DeleteQuery(self, self._resolver(table, "delete"))

    def transaction(self) -> Transaction:
        """A transaction (a savepoint when one is already open here)."""
        return Transaction(self)

    def run(self, statement: sa.Executable, resolver: ColumnResolver) -> Outcome:
        """Execute on the open transaction, or in a transaction of its own."""
        conn = active_connection(self.namespace)
        if conn is not None:
            return _execute(conn, statement, resolver)
        writes = not isinstance(statement, sa.Select)
        with self.namespace.engine.connect() as own:
            own.execution_options(**{IMMEDIATE_OPTION: writes})
            with own.begin():
                return _execute(own, statement, resolver)

    def __repr__(self) -> str:
        return f"<Db namespace={self.namespace.name!r}>"


def _execute(conn: Connection, statement: sa.Executable, resolver: ColumnResolver) -> Outcome:
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

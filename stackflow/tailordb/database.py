"""`Db`: the query builder root of one namespace, its connections and transactions."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from stackflow.definitions.runner import current_runner
from stackflow.tailordb.engines import IMMEDIATE_OPTION
from stackflow.tailordb.expressions import ColumnResolver
from stackflow.tailordb.outbox import Outbox
from stackflow.tailordb.permissions import Access
from stackflow.tailordb.query import (
    DeleteQuery,
    InsertQuery,
    Outcome,
    SelectQuery,
    UpdateQuery,
    with_returning,
)
from stackflow.tailordb.registry import Namespace
from stackflow.tailordb.statements import execute
from stackflow.tailordb.triggers import (
    TriggeredWrite,
    TriggerSource,
    trigger_source,
    write_and_fire,
)

T = TypeVar("T")


@dataclass(frozen=True)
class OpenTransaction:
    """A transaction a job (or script) has open on a namespace, and what it will announce."""

    namespace_key: int
    conn: Connection
    opened_by: object
    outbox: Outbox


_open_transactions: ContextVar[tuple[OpenTransaction, ...]] = ContextVar(
    "stackflow_tailordb_transactions", default=()
)


def open_transaction(namespace: Namespace) -> OpenTransaction | None:
    """The transaction this job (or script) has open on `namespace`, if any."""
    owner = current_runner.get()
    for entry in reversed(_open_transactions.get()):
        if entry.namespace_key == id(namespace) and entry.opened_by is owner:
            return entry
    return None


def active_connection(namespace: Namespace) -> Connection | None:
    """The connection of the transaction this job (or script) has open on `namespace`."""
    entry = open_transaction(namespace)
    return None if entry is None else entry.conn


@contextmanager
def namespace_transaction(namespace: Namespace) -> Iterator[Connection]:
    """Open a transaction on `namespace` that `get_db` in this job or script will use.

    The executions its record triggers create are announced once it commits.
    """
    if namespace.triggers:
        trigger_source(namespace)  # opens the store before this transaction locks anything
    outbox = Outbox()
    with namespace.engine.connect() as conn:
        conn.execution_options(**{IMMEDIATE_OPTION: True})
        with conn.begin():
            entry = OpenTransaction(id(namespace), conn, current_runner.get(), outbox)
            token = _open_transactions.set((*_open_transactions.get(), entry))
            try:
                yield conn
            finally:
                _open_transactions.reset(token)
    outbox.announce()


class Transaction:
    """`db.transaction()`: `with db.transaction() as trx:` or `.execute(lambda trx: ...)`."""

    def __init__(self, db: Db) -> None:
        self._db = db
        self._stack: list[Any] = []

    def __enter__(self) -> Db:
        active = open_transaction(self._db.namespace)
        if active is not None:
            savepoint = active.conn.begin_nested()
            self._stack.append((savepoint, active.outbox, active.outbox.mark()))
            return Db(self._db.namespace, self._db.access)
        context = namespace_transaction(self._db.namespace)
        context.__enter__()
        self._stack.append(context)
        return Db(self._db.namespace, self._db.access)

    def __exit__(self, *exc: Any) -> None:
        entry = self._stack.pop()
        if isinstance(entry, tuple):
            savepoint, outbox, mark = entry
            if exc[0] is None:
                savepoint.commit()
            else:
                savepoint.rollback()
                outbox.discard_after(mark)
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
            return execute(conn, statement, resolver)
        writes = not isinstance(statement, sa.Select)
        with self.namespace.engine.connect() as own:
            own.execution_options(**{IMMEDIATE_OPTION: writes})
            with own.begin():
                return execute(own, statement, resolver)

    def write(
        self, op: str, statement: Any, returning: list[str] | None, resolver: ColumnResolver
    ) -> Outcome:
        """Run an insert, update or delete; with record triggers on it, start their workflows
        in the same transaction."""
        triggers = self.namespace.triggers.get((resolver.type.name, op))
        if not triggers:
            return self.run(with_returning(statement, resolver.table, returning), resolver)
        write = TriggeredWrite(op, statement, returning, resolver, triggers)
        source = trigger_source(self.namespace)
        active = open_transaction(self.namespace)
        if active is not None:
            return _in_savepoint(active, source, write)
        with namespace_transaction(self.namespace):
            own = open_transaction(self.namespace)
            assert own is not None
            return write_and_fire(own.conn, own.outbox, source, write)

    def __repr__(self) -> str:
        return f"<Db namespace={self.namespace.name!r}>"


def _in_savepoint(active: OpenTransaction, source: TriggerSource, write: TriggeredWrite) -> Outcome:
    """The write and its executions in a savepoint: a refused trigger undoes both, even when
    the caller catches the error and commits the rest of its transaction."""
    savepoint = active.conn.begin_nested()
    mark = active.outbox.mark()
    try:
        outcome = write_and_fire(active.conn, active.outbox, source, write)
    except BaseException:
        savepoint.rollback()
        active.outbox.discard_after(mark)
        raise
    savepoint.commit()
    return outcome

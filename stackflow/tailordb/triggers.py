"""Firing record triggers: each changed row starts its workflows in the write's transaction."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from stackflow.clock import new_id, now_ms
from stackflow.definitions.runner import current_runner
from stackflow.definitions.triggers import RecordTrigger
from stackflow.errors import JsonValueError
from stackflow.jsonvalue import encode, round_trip
from stackflow.store.base import NewExecution, Store
from stackflow.tailordb.errors import RecordTriggerError, TriggerLoopError
from stackflow.tailordb.expressions import ColumnResolver
from stackflow.tailordb.outbox import Outbox
from stackflow.tailordb.query import Outcome, Row
from stackflow.tailordb.registry import Namespace
from stackflow.tailordb.statements import execute
from stackflow.tailordb.stores import store_for
from stackflow.tailordb.values import read_value

MAX_TRIGGER_DEPTH = 8
"""How many record triggers may lead to one another: an execution started by a trigger is
one deeper than the execution whose write fired it (a write outside executions: 0)."""
UPDATE_CHUNK_ROWS = 5000
"""Rows updated per statement when the changed rows must be read back (bound-parameter caps)."""


@dataclass(frozen=True)
class BoundTrigger:
    """A record trigger as its namespace fires it: with its machine user's invoker record."""

    trigger: RecordTrigger
    invoker_json: str | None


@runtime_checkable
class RecordingRunner(Protocol):
    """A job of an execution: the store it is recorded in, and which execution it is."""

    @property
    def store(self) -> Store:
        """The store of the job's execution."""
        ...

    @property
    def execution_id(self) -> str:
        """The id of the job's execution."""
        ...


@dataclass(frozen=True)
class TriggerSource:
    """Where a write happens: the store its triggers write to and the execution writing it."""

    store: Store
    execution_id: str | None


def trigger_source(namespace: Namespace) -> TriggerSource:
    """The store (opened now, before any transaction of the caller) and the writing execution."""
    runner = current_runner.get()
    if isinstance(runner, RecordingRunner) and runner.store.url == namespace.store_url:
        return TriggerSource(runner.store, runner.execution_id)
    return TriggerSource(store_for(namespace.store_url), None)


@dataclass(frozen=True)
class TriggeredWrite:
    """One write whose changed rows fire `triggers`."""

    op: str
    statement: Any
    returning: list[str] | None
    resolver: ColumnResolver
    triggers: Sequence[BoundTrigger]


def write_and_fire(
    conn: Connection, outbox: Outbox, source: TriggerSource, write: TriggeredWrite
) -> Outcome:
    """Run the write on `conn` and create the executions its rows' events start, on the same
    connection; the changes are announced once the caller's transaction commits."""
    old, new = _changed_rows(conn, write)
    firing = _Firing(conn, outbox, source)
    for event in _events(write.resolver, write.op, old, new):
        for bound in write.triggers:
            firing.fire(bound, event)
    rows = old if write.op == "delete" else new
    if write.returning is None:
        return Outcome([], len(rows))
    return Outcome([{name: row[name] for name in write.returning} for row in rows], len(rows))


def _changed_rows(conn: Connection, write: TriggeredWrite) -> tuple[list[Row], list[Row]]:
    """(old rows, new rows) of the write, read with it (updated rows are locked first)."""
    table = write.resolver.table
    statement = write.statement
    if write.op == "create":
        return [], _rows(execute(conn, statement.returning(*table.c), write.resolver))
    if write.op == "delete":
        return _rows(execute(conn, statement.returning(*table.c), write.resolver)), []
    condition = [] if statement.whereclause is None else [statement.whereclause]
    locked = sa.select(*table.c).where(*condition).with_for_update()
    old = _rows(execute(conn, locked, write.resolver))
    new: list[Row] = []
    for ids in _chunks([row["id"] for row in old]):
        changed = statement.where(table.c.id.in_(ids)).returning(*table.c)
        new.extend(_rows(execute(conn, changed, write.resolver)))
    return old, new


def _rows(outcome: Outcome) -> list[Row]:
    return [dict(row) for row in outcome.rows]


def _chunks(ids: list[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(ids), UPDATE_CHUNK_ROWS):
        yield ids[start : start + UPDATE_CHUNK_ROWS]


def _events(
    resolver: ColumnResolver, op: str, old: list[Row], new: list[Row]
) -> Iterator[dict[str, Any]]:
    """The JSON events of the changed rows, in the order the database gave them."""
    type_name = resolver.type.name
    fields = resolver.type.fields
    before = {row["id"]: row for row in old}
    for row in new if op != "delete" else old:
        previous = before.get(row["id"]) if op == "update" else None
        event = {
            "type": type_name,
            "op": op,
            "new": None if op == "delete" else _json_row(fields, row),
            "old": _json_row(fields, row) if op == "delete" else _json_row(fields, previous),
        }
        yield round_trip(event, what=f"the {op} event of '{type_name}'")


def _json_row(fields: Mapping[str, Any], row: Row | None) -> Row | None:
    if row is None:
        return None
    return {name: read_value(fields[name], value) for name, value in row.items()}


class _Firing:
    """The executions one write starts, created on the write's connection."""

    def __init__(self, conn: Connection, outbox: Outbox, source: TriggerSource) -> None:
        self._dbapi: Any = conn.connection.dbapi_connection
        self._outbox = outbox
        self._source = source
        self._depth: int | None = None

    def fire(self, bound: BoundTrigger, event: Mapping[str, Any]) -> None:
        """Start the trigger's workflow for `event` if the trigger wants it."""
        trigger = bound.trigger
        wanted = _call(trigger, "condition", trigger.wants, event)
        if not wanted:
            return
        new = NewExecution(
            id=new_id(),
            workflow_name=trigger.workflow.name,
            arg_json=_arg_json(trigger, _call(trigger, "args", trigger.arg_for, event)),
            invoker_json=bound.invoker_json,
            idempotency_key=None,
            created_at_ms=now_ms(),
            trigger_depth=self._next_depth(trigger, event),
        )
        store = self._source.store
        self._outbox.add(store, store.create_execution_txn(self._dbapi, new))

    def _next_depth(self, trigger: RecordTrigger, event: Mapping[str, Any]) -> int:
        if self._depth is None:
            writer, store = self._source.execution_id, self._source.store
            depth = 0 if writer is None else store.trigger_depth_txn(self._dbapi, writer)
            self._depth = depth + 1
        if self._depth > MAX_TRIGGER_DEPTH:
            raise TriggerLoopError(
                f"record trigger '{trigger.name}' would start workflow '{trigger.workflow.name}' "
                f"{self._depth} record triggers deep, past the limit of {MAX_TRIGGER_DEPTH}: "
                f"the {event['op']} of '{event['type']}' comes from an execution that record "
                "triggers started; give the trigger a condition that ends the chain"
            )
        return self._depth


def _call(trigger: RecordTrigger, what: str, function: Any, event: Mapping[str, Any]) -> Any:
    try:
        return function(event)
    except Exception as error:
        raise RecordTriggerError(
            f"record trigger '{trigger.name}': its {what} function raised "
            f"{type(error).__name__}: {error}"
        ) from error


def _arg_json(trigger: RecordTrigger, arg: Any) -> str:
    if not isinstance(arg, dict):
        raise RecordTriggerError(
            f"record trigger '{trigger.name}': the argument of workflow "
            f"'{trigger.workflow.name}' must be a JSON object; args returned "
            f"{type(arg).__name__}"
        )
    try:
        return encode(arg, what=f"the argument of workflow '{trigger.workflow.name}'")
    except JsonValueError as error:
        raise RecordTriggerError(f"record trigger '{trigger.name}': {error}") from None

"""Record triggers: a workflow started by a TailorDB write, in the write's own transaction."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from stackflow.definitions.workflows import Workflow
from stackflow.errors import DefinitionError

RECORD_OPS = ("create", "update", "delete")
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")

RecordEvent = Mapping[str, Any]
"""`{"type": "Customer", "op": "create"|"update"|"delete", "new": row|None, "old": row|None}`."""
EventArgs = Callable[[RecordEvent], Any] | None
EventCondition = Callable[[RecordEvent], Any] | None


class RecordTrigger:
    """A workflow started once for each row a committed TailorDB write creates, updates or
    deletes in one type, with the event as its argument."""

    def __init__(
        self,
        name: str,
        *,
        type: str,
        workflow: Workflow,
        on: Iterable[str] = RECORD_OPS,
        machine_user: str | None = None,
        args: EventArgs = None,
        condition: EventCondition = None,
        namespace: str | None = None,
        defined_at: tuple[str, int] | None = None,
    ) -> None:
        self.name = _check_name(name)
        self.type_name = _check_text(name, "type", type, "the name of a TailorDB type")
        self.ops = _check_ops(name, on)
        if not isinstance(workflow, Workflow):
            raise DefinitionError(
                f"record trigger {name!r}: workflow must be a Workflow made by create_workflow, "
                f"got {workflow!r}"
            )
        self.workflow = workflow
        self.machine_user = _optional_text(
            name, "machine_user", machine_user, "the name of a machine user"
        )
        self.args = _check_function(name, "args", args, "None (the event is the argument)")
        self.condition = _check_function(name, "condition", condition, "None (every event)")
        self.namespace = _optional_text(
            name, "namespace", namespace, "the name of a [db.<name>] namespace"
        )
        self.defined_at = defined_at

    def wants(self, event: RecordEvent) -> bool:
        """Whether this event starts the workflow (its op is watched and the condition holds)."""
        return event["op"] in self.ops and (self.condition is None or bool(self.condition(event)))

    def arg_for(self, event: RecordEvent) -> Any:
        """The workflow's argument: the event, or what the args function makes of it."""
        return event if self.args is None else self.args(event)

    def __repr__(self) -> str:
        on = ",".join(self.ops)
        return f"<RecordTrigger {self.name!r} {self.type_name} {on} -> {self.workflow.name!r}>"


def record_trigger_json(trigger: RecordTrigger) -> dict[str, Any]:
    """A record trigger as `check -j` and `trigger list -j` show it."""
    return {
        "name": trigger.name,
        "type": trigger.type_name,
        "on": list(trigger.ops),
        "workflow": trigger.workflow.name,
        "machineUser": trigger.machine_user,
        "namespace": trigger.namespace,
        "condition": trigger.condition is not None,
    }


def create_record_trigger(
    name: str,
    type: str,
    *,
    workflow: Workflow,
    on: Iterable[str] = RECORD_OPS,
    machine_user: str | None = None,
    args: EventArgs = None,
    condition: EventCondition = None,
    namespace: str | None = None,
) -> RecordTrigger:
    """Define a record trigger at module level in a workflow file.

    Every TailorDB write through `get_db` that creates, updates or deletes rows of
    `type` starts `workflow` once per row, in the same database transaction as the
    write: a rolled-back write starts nothing.

    Args:
        name: 1-63 lowercase letters, digits, `-` and `_`.
        type: the TailorDB type watched (e.g. "Customer").
        workflow: the workflow each event starts.
        on: the operations watched, among "create", "update" and "delete" (default: all).
        machine_user: the machine user the executions run as (from `[machine_users]`).
        args: None to pass the event `{"type", "op", "new", "old"}` as the argument,
            or a function of the event returning it (a JSON object).
        condition: a function of the event; the workflow starts only when it is true.
        namespace: the `[db.<name>]` namespace of the type, when several declare it.
    """
    caller = sys._getframe(1)
    return RecordTrigger(
        name,
        type=type,
        workflow=workflow,
        on=on,
        machine_user=machine_user,
        args=args,
        condition=condition,
        namespace=namespace,
        defined_at=(caller.f_code.co_filename, caller.f_lineno),
    )


TriggerAttacher = Callable[[Path, Any], None]
"""Attaches the record triggers of the project at a stackflow.toml to a TailorDB."""

_attachers: list[TriggerAttacher] = []


def register_trigger_attacher(attach: TriggerAttacher) -> None:
    """Make `attach` give the TailorDB that scripts use the project's record triggers.

    TailorDB sits below the project loader, so the loader registers itself here.
    """
    _attachers[:] = [attach]


def attach_project_triggers(config_path: Path, tailordb: Any) -> None:
    """Attach the record triggers of the project at `config_path` to `tailordb`."""
    for attach in _attachers:
        attach(config_path, tailordb)


def _check_name(name: object) -> str:
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise DefinitionError(
            f"record trigger name {name!r} is invalid: use 1-63 lowercase letters, digits, "
            "'-' and '_', starting with a letter or digit"
        )
    return name


def _check_text(name: str, what: str, value: object, expected: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise DefinitionError(f"record trigger {name!r}: {what} must be {expected}, got {value!r}")
    return value


def _optional_text(name: str, what: str, value: object, expected: str) -> str | None:
    return None if value is None else _check_text(name, what, value, expected)


def _check_ops(name: str, on: object) -> tuple[str, ...]:
    ops = (on,) if isinstance(on, str) else tuple(on) if isinstance(on, Iterable) else ()
    unknown = [op for op in ops if op not in RECORD_OPS]
    if not ops or unknown:
        raise DefinitionError(
            f"record trigger {name!r}: on must name operations among "
            f"{', '.join(map(repr, RECORD_OPS))}, got {on!r}"
        )
    return tuple(op for op in RECORD_OPS if op in ops)


def _check_function(name: str, what: str, value: object, otherwise: str) -> Any:
    if value is not None and not callable(value):
        raise DefinitionError(
            f"record trigger {name!r}: {what} must be a function of the event or {otherwise}, "
            f"got {value!r}"
        )
    return value

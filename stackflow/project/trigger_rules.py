"""The project rules for record triggers: unique names, known machine users, watchable types."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from stackflow.definitions.triggers import RecordTrigger
from stackflow.project.declarations import (
    declared_location,
    declared_place,
    machine_user_problem,
)
from stackflow.project.rules import Breach

if TYPE_CHECKING:
    from stackflow.tailordb.registry import TailorDB
    from stackflow.tailordb.triggers import BoundTrigger

RECORD_TRIGGER_TYPE = "record-trigger-type"
RECORD_TRIGGER_MACHINE_USER = "record-trigger-machine-user"
UNIQUE_RECORD_TRIGGER_NAMES = "unique-record-trigger-names"

TriggerBinding = tuple[str, "BoundTrigger"]
"""A record trigger ready to fire: its namespace's name and the bound trigger."""


def module_record_triggers(modules: Iterable[ModuleType]) -> list[RecordTrigger]:
    """The record triggers bound to module-level names in `modules`, each once."""
    found = {
        id(value): value
        for module in modules
        for value in vars(module).values()
        if isinstance(value, RecordTrigger)
    }
    return list(found.values())


def bind_record_triggers(
    triggers: Iterable[RecordTrigger],
    tailordb: TailorDB | None,
    machine_users: Mapping[str, Mapping[str, Any]],
    root: Path,
) -> tuple[list[TriggerBinding], list[Breach]]:
    """The triggers that can fire, bound to their namespaces, and the breaches of the others."""
    from stackflow.tailordb.trigger_binding import (  # SQLAlchemy loads only for TailorDB
        bound_trigger,
        trigger_namespace,
    )

    bindings: list[TriggerBinding] = []
    breaches: list[Breach] = []
    for trigger in triggers:
        namespace, problem = trigger_namespace(tailordb, trigger)
        user_problem = machine_user_problem(
            f"record trigger {trigger.name!r}", trigger.machine_user, machine_users, required=True
        )
        if namespace is None:
            breaches.append(
                Breach(RECORD_TRIGGER_TYPE, problem, *declared_location(trigger.defined_at, root))
            )
        if user_problem is not None:
            breaches.append(
                Breach(
                    RECORD_TRIGGER_MACHINE_USER,
                    user_problem,
                    *declared_location(trigger.defined_at, root),
                )
            )
        if namespace is not None and user_problem is None:
            bindings.append((namespace.name, bound_trigger(trigger, machine_users)))
    return bindings, breaches + _duplicate_breaches(triggers, root)


def _duplicate_breaches(triggers: Iterable[RecordTrigger], root: Path) -> list[Breach]:
    by_name: dict[str, list[RecordTrigger]] = {}
    for trigger in triggers:
        by_name.setdefault(trigger.name, []).append(trigger)
    breaches = []
    for name, group in by_name.items():
        if len(group) > 1:
            places = " and ".join(declared_place(trigger.defined_at, root) for trigger in group)
            message = f"record trigger names must be unique: {name!r} is defined at {places}"
            breaches.append(
                Breach(
                    UNIQUE_RECORD_TRIGGER_NAMES,
                    message,
                    *declared_location(group[-1].defined_at, root),
                )
            )
    return breaches

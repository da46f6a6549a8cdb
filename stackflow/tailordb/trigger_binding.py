"""Binding record triggers to the namespaces whose writes fire them, and why one cannot be."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from stackflow.definitions.triggers import RecordTrigger
from stackflow.records import Invoker
from stackflow.store.rows import invoker_json
from stackflow.tailordb.registry import Namespace, TailorDB
from stackflow.tailordb.triggers import BoundTrigger


def trigger_namespace(
    tailordb: TailorDB | None, trigger: RecordTrigger
) -> tuple[Namespace | None, str]:
    """(the namespace whose writes fire `trigger`, or None; why not when None)."""
    if tailordb is None or not tailordb.namespaces:
        return None, (
            f"record trigger '{trigger.name}' watches type '{trigger.type_name}', but the "
            "project declares no TailorDB namespace ([db.<name>] in stackflow.toml)"
        )
    if trigger.namespace is not None:
        namespace = tailordb.namespaces.get(trigger.namespace)
        if namespace is None:
            known = ", ".join(sorted(tailordb.namespaces))
            return None, (
                f"record trigger '{trigger.name}' names namespace '{trigger.namespace}', "
                f"which is not declared (namespaces: {known})"
            )
        candidates = [namespace] if trigger.type_name in namespace.types else []
    else:
        candidates = [n for n in tailordb.namespaces.values() if trigger.type_name in n.types]
    return _one_namespace(trigger, tailordb, candidates)


def _one_namespace(
    trigger: RecordTrigger, tailordb: TailorDB, candidates: list[Namespace]
) -> tuple[Namespace | None, str]:
    if not candidates:
        where = trigger.namespace or ", ".join(sorted(tailordb.namespaces))
        return None, (
            f"record trigger '{trigger.name}' watches type '{trigger.type_name}', which no "
            f"TailorDB namespace declares (looked in: {where})"
        )
    if len(candidates) > 1:
        names = ", ".join(sorted(namespace.name for namespace in candidates))
        return None, (
            f"record trigger '{trigger.name}': type '{trigger.type_name}' is declared in "
            f"several namespaces ({names}); pick one with namespace={candidates[0].name!r}"
        )
    namespace = candidates[0]
    if not namespace.shares_store_database:
        return None, (
            f"record trigger '{trigger.name}' watches '{trigger.type_name}' in namespace "
            f"'{namespace.name}', which lives in {namespace.url}, not in the store's database "
            f"{namespace.store_url}: the write and the execution it starts cannot commit in "
            "one transaction there; drop the namespace's own 'database' so it shares the "
            "store's"
        )
    return namespace, ""


def bound_trigger(
    trigger: RecordTrigger, machine_users: Mapping[str, Mapping[str, Any]]
) -> BoundTrigger:
    """The trigger with the invoker record of its machine user (the name must be known)."""
    name = trigger.machine_user
    if name is None:
        return BoundTrigger(trigger, None)
    attributes = dict(machine_users.get(name, {}))
    return BoundTrigger(
        trigger, invoker_json(Invoker(id=name, type="machine_user", attributes=attributes))
    )


def attach_triggers(tailordb: TailorDB, bound: Iterable[tuple[str, BoundTrigger]]) -> None:
    """Make writes in each named namespace fire its triggers (replacing any attached before)."""
    by_namespace: dict[str, dict[tuple[str, str], list[BoundTrigger]]] = {}
    for namespace_name, item in bound:
        keyed = by_namespace.setdefault(namespace_name, {})
        for op in item.trigger.ops:
            keyed.setdefault((item.trigger.type_name, op), []).append(item)
    for name, namespace in tailordb.namespaces.items():
        keyed = by_namespace.get(name, {})
        namespace.triggers = {key: tuple(items) for key, items in keyed.items()}

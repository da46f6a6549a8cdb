"""The project rules for webhooks: unique names, and a machine user the project configures."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from types import ModuleType

from stackflow.definitions.webhooks import Webhook
from stackflow.project.declarations import (
    declared_location,
    declared_place,
    machine_user_problem,
)
from stackflow.project.rules import Breach

UNIQUE_WEBHOOK_NAMES = "unique-webhook-names"
WEBHOOK_MACHINE_USER = "webhook-machine-user"


def module_webhooks(modules: Iterable[ModuleType]) -> list[Webhook]:
    """The webhooks bound to module-level names in `modules`, each once."""
    found = {
        id(value): value
        for module in modules
        for value in vars(module).values()
        if isinstance(value, Webhook)
    }
    return list(found.values())


def webhook_breaches(
    webhooks: Iterable[Webhook], machine_users: Mapping[str, object], root: Path
) -> list[Breach]:
    """Two webhooks with one name; a machine user that is unknown, or missing when required."""
    breaches: list[Breach] = []
    by_name: dict[str, list[Webhook]] = {}
    for webhook in webhooks:
        by_name.setdefault(webhook.name, []).append(webhook)
        problem = machine_user_problem(
            f"webhook {webhook.name!r}", webhook.machine_user, machine_users, required=True
        )
        if problem is not None:
            breaches.append(
                Breach(WEBHOOK_MACHINE_USER, problem, *declared_location(webhook.defined_at, root))
            )
    for name, group in by_name.items():
        if len(group) > 1:
            places = " and ".join(declared_place(webhook.defined_at, root) for webhook in group)
            message = f"webhook names must be unique: {name!r} is defined at {places}"
            breaches.append(
                Breach(
                    UNIQUE_WEBHOOK_NAMES, message, *declared_location(group[-1].defined_at, root)
                )
            )
    return breaches

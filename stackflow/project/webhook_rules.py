"""The project rules for webhooks: unique names, and a machine user the project configures."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from types import ModuleType

from stackflow.definitions.webhooks import Webhook
from stackflow.project.rules import Breach, Location, display_path

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
        problem = _machine_user_problem(webhook, machine_users)
        if problem is not None:
            breaches.append(Breach(WEBHOOK_MACHINE_USER, problem, *_where(webhook, root)))
    for name, group in by_name.items():
        if len(group) > 1:
            places = " and ".join(_place(webhook, root) for webhook in group)
            message = f"webhook names must be unique: {name!r} is defined at {places}"
            breaches.append(Breach(UNIQUE_WEBHOOK_NAMES, message, *_where(group[-1], root)))
    return breaches


def _machine_user_problem(webhook: Webhook, machine_users: Mapping[str, object]) -> str | None:
    known = ", ".join(sorted(machine_users)) or "none are configured"
    if webhook.machine_user is None:
        if not machine_users:
            return None
        return (
            f"webhook {webhook.name!r} needs machine_user=...: the project configures "
            f"machine users ({known})"
        )
    if webhook.machine_user in machine_users:
        return None
    return (
        f"webhook {webhook.name!r}: unknown machine user {webhook.machine_user!r}. "
        f"Known machine users: {known} (declare one under [machine_users.<name>] "
        "in stackflow.toml)"
    )


def _where(webhook: Webhook, root: Path) -> Location:
    if webhook.defined_at is None:
        return None, None
    return display_path(webhook.defined_at[0], root), webhook.defined_at[1]


def _place(webhook: Webhook, root: Path) -> str:
    file, line = _where(webhook, root)
    return f"{file or '<unknown file>'}{f':{line}' if line else ''}"

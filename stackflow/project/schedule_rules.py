"""The project rule for schedules: the machine user a schedule names is one the project declares."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from stackflow.definitions.schedules import Schedule
from stackflow.project.rules import Breach, display_path

SCHEDULE_MACHINE_USER = "schedule-machine-user"


def schedule_breaches(
    schedules: Iterable[Schedule], machine_users: Mapping[str, object], root: Path
) -> list[Breach]:
    """A breach for each schedule naming a machine user that `[machine_users]` lacks (its
    ticks could never start, and a worker would retry them forever)."""
    known = ", ".join(sorted(machine_users)) or "none are configured"
    breaches = []
    for schedule in schedules:
        user = schedule.machine_user
        if user is None or user in machine_users:
            continue
        message = (
            f"schedule {schedule.name!r}: unknown machine user {user!r}. Known machine users: "
            f"{known} (declare one under [machine_users.<name>] in stackflow.toml)"
        )
        file, line = schedule.defined_at or (None, None)
        shown = display_path(file, root) if file is not None else None
        breaches.append(Breach(SCHEDULE_MACHINE_USER, message, shown, line))
    return breaches

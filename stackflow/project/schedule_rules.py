"""The project rule for schedules: the machine user a schedule names is one the project declares."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from stackflow.definitions.schedules import Schedule
from stackflow.project.declarations import declared_location, machine_user_problem
from stackflow.project.rules import Breach

SCHEDULE_MACHINE_USER = "schedule-machine-user"


def schedule_breaches(
    schedules: Iterable[Schedule], machine_users: Mapping[str, object], root: Path
) -> list[Breach]:
    """A breach for each schedule naming a machine user that `[machine_users]` lacks (its
    ticks could never start)."""
    breaches = []
    for schedule in schedules:
        what = f"schedule {schedule.name!r}"
        problem = machine_user_problem(what, schedule.machine_user, machine_users, required=False)
        if problem is not None:
            where = declared_location(schedule.defined_at, root)
            breaches.append(Breach(SCHEDULE_MACHINE_USER, problem, *where))
    return breaches

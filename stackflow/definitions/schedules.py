"""Schedules: start a workflow on a cron timetable, once per tick however many workers run."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

from stackflow.definitions.workflows import Workflow
from stackflow.errors import DefinitionError

ScheduleArgs = Mapping[str, Any] | Callable[[datetime], Mapping[str, Any]] | None


class Schedule:
    """A workflow started at every tick of a cron expression, in a time zone.

    Five fields (minute hour day month weekday) or six (with seconds last).
    Missed ticks while no worker ran: the latest one runs once when a worker starts.
    """

    def __init__(
        self,
        name: str,
        cron: str,
        workflow: Workflow,
        *,
        timezone: str = "UTC",
        args: ScheduleArgs = None,
        machine_user: str | None = None,
        defined_at: tuple[str, int] | None = None,
    ) -> None:
        if not isinstance(name, str) or not name.strip():
            raise DefinitionError(f"schedule name must be a non-empty string, got {name!r}")
        if not isinstance(cron, str) or not croniter.is_valid(cron):
            raise DefinitionError(f"schedule {name!r}: {cron!r} is not a valid cron expression")
        if not isinstance(workflow, Workflow):
            raise DefinitionError(
                f"schedule {name!r}: workflow must be a Workflow object, got {workflow!r}"
            )
        try:
            self.zone = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise DefinitionError(f"schedule {name!r}: unknown time zone {timezone!r}") from None
        self.name = name
        self.cron = cron
        self.timezone = timezone
        self.workflow = workflow
        self.args = args
        self.machine_user = machine_user
        self.defined_at = defined_at
        """The file and line of the create_schedule call, when known."""

    def next_tick(self, after: datetime) -> datetime:
        """The first tick strictly after `after`, in the schedule's time zone."""
        return croniter(self.cron, after.astimezone(self.zone)).get_next(datetime)

    def latest_tick(self, at: datetime) -> datetime:
        """The last tick at or before `at`."""
        moment = at.astimezone(self.zone)
        previous: datetime = croniter(self.cron, moment).get_prev(datetime)
        following = self.next_tick(previous)
        return following if following <= moment else previous

    def arg_for(self, tick: datetime) -> dict[str, Any]:
        """The workflow argument for a tick: the args, or what the args function returns."""
        value = self.args(tick) if callable(self.args) else self.args
        return dict(value or {})

    def __repr__(self) -> str:
        return f"<Schedule {self.name!r} {self.cron!r} {self.timezone} -> {self.workflow.name!r}>"


def create_schedule(
    name: str,
    cron: str,
    *,
    workflow: Workflow,
    timezone: str = "UTC",
    args: ScheduleArgs = None,
    machine_user: str | None = None,
) -> Schedule:
    """Define a schedule at module level in a workflow file."""
    caller = sys._getframe(1)
    return Schedule(
        name,
        cron,
        workflow,
        timezone=timezone,
        args=args,
        machine_user=machine_user,
        defined_at=(caller.f_code.co_filename, caller.f_lineno),
    )


def tick_key(schedule: Schedule, tick: datetime) -> str:
    """The idempotency key of one tick: the store starts it once, whoever asks."""
    return f"schedule:{schedule.name}:{tick.astimezone(UTC).isoformat()}"

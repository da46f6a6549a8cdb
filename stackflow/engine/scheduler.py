"""Firing schedules: the latest due tick of each, once across every worker, errors recorded."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Protocol

from stackflow.clock import now_ms
from stackflow.definitions.schedules import Schedule, tick_key
from stackflow.definitions.workflows import Workflow
from stackflow.errors import StoreError
from stackflow.store.base import Store

TickErrorLog = Callable[[str, datetime, str], None]
"""Told of a tick that could not start: (schedule name, tick, one-line error)."""


class StartExecution(Protocol):
    """Creates an execution: (its id, whether this call created it)."""

    def __call__(
        self, workflow: Workflow, arg: Any, *, invoker: str | None, idempotency_key: str
    ) -> tuple[str, bool]: ...


def _one_line(error: BaseException) -> str:
    try:
        text = " ".join(str(error).split())
    except Exception:
        text = "unprintable exception"
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


class ScheduleFirer:
    """Starts each schedule's latest due tick; a tick that fails to start is recorded and
    skipped, so one broken schedule never stops a worker or the other schedules."""

    def __init__(
        self, schedules: Mapping[str, Schedule], store: Callable[[], Store], start: StartExecution
    ) -> None:
        self.schedules = schedules
        self._store = store
        self._start = start
        self._fired: dict[str, int] = {}
        self._first_seen: dict[str, int] = {}

    def fire_due(self, moment: datetime, on_error: TickErrorLog | None = None) -> list[str]:
        """Start the latest due tick of every schedule; the ids of the executions created."""
        started = []
        for schedule in self.schedules.values():
            tick = schedule.latest_tick(moment)
            tick_ms = int(tick.timestamp() * 1000)
            if tick_ms <= self._fired.get(schedule.name, -1):
                continue
            if tick_ms < self._seen(schedule.name, moment):
                self._fired[schedule.name] = tick_ms
                continue
            execution_id = self._fire(schedule, tick, on_error)
            self._fired[schedule.name] = tick_ms
            if execution_id is not None:
                started.append(execution_id)
        return started

    def next_tick(self, moment: datetime) -> datetime | None:
        """When the next tick of any schedule is due."""
        ticks = [schedule.next_tick(moment) for schedule in self.schedules.values()]
        return min(ticks, default=None)

    def _fire(
        self, schedule: Schedule, tick: datetime, on_error: TickErrorLog | None
    ) -> str | None:
        try:
            execution_id, created = self._start(
                schedule.workflow,
                schedule.arg_for(tick),
                invoker=schedule.machine_user,
                idempotency_key=tick_key(schedule, tick),
            )
        except StoreError:
            raise  # the store is busy or unreachable: the tick is tried again
        except Exception as error:
            message = _one_line(error)
            self._store().record_schedule_error(schedule.name, message, now_ms())
            if on_error is not None:
                on_error(schedule.name, tick, message)
            return None
        return execution_id if created else None

    def _seen(self, name: str, moment: datetime) -> int:
        seen = self._first_seen.get(name)
        if seen is None:
            seen = self._store().schedule_first_seen(name, int(moment.timestamp() * 1000))
            self._first_seen[name] = seen
        return seen

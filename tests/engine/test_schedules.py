"""Schedules: tick arithmetic across time zones and DST, and once-per-tick starts."""

from __future__ import annotations

import itertools
import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from stackflow import create_workflow, create_workflow_job
from stackflow.definitions.schedules import create_schedule
from stackflow.errors import DefinitionError

ping = create_workflow(name="ping", main_job=create_workflow_job(name="pong", body=lambda i: i))
NEW_YORK = ZoneInfo("America/New_York")


def test_next_tick_in_a_time_zone():
    noon_tokyo = create_schedule("noon", "0 12 * * *", timezone="Asia/Tokyo", workflow=ping)
    after = datetime(2025, 1, 15, 4, 0, tzinfo=UTC)  # 13:00 in Tokyo
    assert noon_tokyo.next_tick(after) == datetime(2025, 1, 16, 3, 0, tzinfo=UTC)


def test_next_tick_across_the_spring_dst_change():
    nightly = create_schedule("nightly", "30 2 * * *", timezone="America/New_York", workflow=ping)
    # 2025-03-09 02:30 does not exist in New York: that day's tick is at 03:00 EDT
    ticks = [nightly.next_tick(datetime(2025, 3, 8, 12, 0, tzinfo=NEW_YORK))]
    ticks.append(nightly.next_tick(ticks[-1]))
    assert [t.astimezone(UTC) for t in ticks] == [
        datetime(2025, 3, 9, 7, 0, tzinfo=UTC),
        datetime(2025, 3, 10, 6, 30, tzinfo=UTC),
    ]


def test_hourly_ticks_across_the_autumn_dst_change():
    hourly = create_schedule("hourly", "0 * * * *", timezone="America/New_York", workflow=ping)
    tick = datetime(2025, 11, 2, 4, 30, tzinfo=UTC)  # 00:30 EDT
    seen = []
    for _ in range(4):
        tick = hourly.next_tick(tick)
        seen.append(tick.astimezone(UTC))
    assert all(b - a == timedelta(hours=1) for a, b in itertools.pairwise(seen))


def test_latest_tick_is_the_tick_itself_when_exactly_on_it():
    every_minute = create_schedule("m", "* * * * *", workflow=ping)
    on = datetime(2025, 1, 1, 10, 5, tzinfo=UTC)
    assert every_minute.latest_tick(on) == on
    assert every_minute.latest_tick(on + timedelta(seconds=30)) == on


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"cron": "61 * * * *"}, "not a valid cron"),
        ({"timezone": "Mars/Olympus"}, "unknown time zone"),
        ({"workflow": "ping"}, "must be a Workflow"),
    ],
)
def test_bad_schedules(options, message):
    arguments = {"cron": "* * * * *", "workflow": ping, **options}
    with pytest.raises(DefinitionError, match=message):
        create_schedule("bad", **arguments)


def test_args_can_be_a_function_of_the_tick():
    daily = create_schedule(
        "daily", "0 0 * * *", workflow=ping, args=lambda tick: {"day": tick.date().isoformat()}
    )
    assert daily.arg_for(datetime(2025, 5, 1, tzinfo=UTC)) == {"day": "2025-05-01"}


def test_each_tick_starts_once_however_many_engines_fire(make_engine):
    every_second = create_schedule("every-second", "* * * * * *", workflow=ping, args={"x": 1})
    engines = [make_engine(schedules=[every_second]) for _ in range(3)]
    base = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=2)
    engines[0].fire_due_schedules(base - timedelta(seconds=1))  # first seen before the ticks
    started: list[str] = []
    lock = threading.Lock()

    def fire(engine, moment):
        ids = engine.fire_due_schedules(moment)
        with lock:
            started.extend(ids)

    for offset in range(5):
        moment = base + timedelta(seconds=offset, milliseconds=100)
        threads = [threading.Thread(target=fire, args=(e, moment)) for e in engines]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    executions = engines[0].list_executions("ping")
    assert len(executions) == 6  # the first-seen tick and 5 more
    assert all(e.arg == {"x": 1} for e in executions)
    assert len(set(started)) == len(started)


def test_ticks_before_a_schedule_was_first_seen_do_not_run(make_engine):
    daily = create_schedule("daily-noon", "0 12 * * *", workflow=ping)
    engine = make_engine(schedules=[daily])
    now = datetime(2025, 6, 1, 15, 0, tzinfo=UTC)
    assert engine.fire_due_schedules(now) == []
    assert len(engine.fire_due_schedules(now + timedelta(days=1))) == 1
    # missed ticks while nothing ran: only the latest one runs
    assert len(engine.fire_due_schedules(now + timedelta(days=5))) == 1
    assert len(engine.list_executions("ping")) == 2

"""Strategies for values that cross the JSON boundary, and what they become after it."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from hypothesis import strategies as st

NO_SURROGATES = st.characters(blacklist_categories=("Cs",))
TEXT = st.text(NO_SURROGATES, max_size=20)
LONE_SURROGATES = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
BIG_INTS = st.integers(min_value=-(10**40), max_value=10**40)
FINITE_FLOATS = st.floats(allow_nan=False, allow_infinity=False)

JSON_SCALARS = st.none() | st.booleans() | BIG_INTS | FINITE_FLOATS | TEXT
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12,
)
JSON_OBJECTS = st.dictionaries(TEXT, JSON_VALUES, max_size=4)

ZONES = st.sampled_from([None, UTC, timezone(timedelta(hours=9)), timezone(timedelta(hours=-5))])
DATETIMES = st.builds(
    lambda moment, zone: moment.replace(tzinfo=zone),
    st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(9999, 12, 30)),
    ZONES,
)


def json_text_of_datetime(moment: datetime) -> str:
    """What DESIGN promises a datetime becomes: UTC with milliseconds and a `Z`."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    utc = aware.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def json_text_of_date(day: date) -> str:
    return day.isoformat()


def not_json(value: Any) -> bool:
    return isinstance(value, float) and not math.isfinite(value)


def embed(container: Any, leaf: Any) -> Any:
    """`leaf` placed inside `container` (a list or dict): the first free spot."""
    if isinstance(container, list):
        return [*container, leaf]
    return {**container, "leaf": leaf}

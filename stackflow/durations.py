"""Durations as users write them: "500ms", "3s", "1m", "2h" or a number of seconds."""

from __future__ import annotations

import re

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


def parse_duration(value: str | float | int, *, name: str = "duration") -> float:
    """Seconds in `value`; ValueError naming `name` when it is not a duration."""
    if isinstance(value, bool):
        raise ValueError(
            f"{name} must be a duration like '500ms', '3s', '1m' or seconds, got {value!r}"
        )
    if isinstance(value, int | float):
        return float(value)
    match = _DURATION.match(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(
            f"{name} must be a duration like '500ms', '3s', '1m' or seconds, got {value!r}"
        )
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]

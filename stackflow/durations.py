"""Durations as users write them ("500ms", "3s", "1m", "2h", "30d" or seconds), and shown."""

from __future__ import annotations

import re
from collections.abc import Sequence

UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
ALL_UNITS = ("ms", "s", "m", "h", "d")
MAX_DURATION_SECONDS = 100 * 365 * 86400.0
"""Longer is a mistake (and would overflow the clocks that wait for it)."""

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$")


def parse_duration(
    value: str | float | int,
    *,
    name: str = "duration",
    units: Sequence[str] = ALL_UNITS,
    whole: bool = False,
) -> float:
    """Seconds in `value`: a number of seconds, or a number and one of `units`.

    `whole` requires a whole number with a unit (as the CLI's `<int>ms|s|m`).
    Raises ValueError naming `name` for anything else, or a duration over 100 years.
    """
    seconds = _seconds(value, units, whole)
    if seconds is None or seconds > MAX_DURATION_SECONDS:
        examples = ", ".join(f"'{'500' if unit == 'ms' else '3'}{unit}'" for unit in units)
        plain = "" if whole else " or a number of seconds"
        raise ValueError(f"{name} must be a duration like {examples}{plain}, got {value!r}")
    return seconds


def _seconds(value: object, units: Sequence[str], whole: bool) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return None if whole or value != value else float(value)
    match = _DURATION.match(value) if isinstance(value, str) else None
    if match is None:
        return None
    number, unit = match.groups()
    if unit and unit not in units:
        return None
    if whole and (not unit or "." in number):
        return None
    return float(number) * UNIT_SECONDS[unit or "s"]


def show_duration(seconds: float) -> str:
    """A short human duration: `850ms`, `12s`, `3m05s`."""
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 60:
        return f"{seconds:.0f}s"
    return f"{int(seconds // 60)}m{int(seconds % 60):02d}s"

"""The JSON text of json field values: every float keeps a decimal point, so it reads back a float.

Python writes a float of 1e16 or more with an exponent (`1e+300`); PostgreSQL's jsonb
stores numbers as numerics and gives them back as `1000...000`, which would read back as
an int. Written as `1000...000.0`, the number keeps its `.0` in jsonb and reads back as
the same float. On SQLite the text is kept as it is written, and reads back alike.
"""

from __future__ import annotations

import decimal
import json
from typing import Any


def json_text(value: Any) -> str:
    """`value` as JSON text, floats with an exponent written out in full with a `.0`."""
    text = json.dumps(value)
    if "e+" not in text:  # no float was written with an exponent (the common case)
        return text
    return _written_out(value)


def _written_out(value: Any) -> str:
    if isinstance(value, float):
        return _float_text(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_written_out(item) for item in value) + "]"
    if isinstance(value, dict):
        items = (f"{json.dumps(key)}: {_written_out(item)}" for key, item in value.items())
        return "{" + ", ".join(items) + "}"
    return json.dumps(value)


def _float_text(number: float) -> str:
    shortest = repr(number)
    if "e+" not in shortest:
        return json.dumps(number)
    # A float written with a positive exponent is a whole number (it is 1e16 or more).
    return format(decimal.Decimal(shortest), "f") + ".0"

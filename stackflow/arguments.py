"""An execution's argument: a JSON object, not nested too deeply, within the payload limit."""

from __future__ import annotations

import json
import sys
from typing import Any

from stackflow.errors import ArgumentTooLarge, InvalidArgument, JsonValueError
from stackflow.jsonvalue import encode

MAX_DEPTH = 128
"""How deep arrays and objects may nest in an argument (as serde_json's default limit)."""


def argument_json(workflow_name: str, arg: Any, limit_bytes: int) -> str:
    """The canonical JSON text of an argument (None is `{}`); InvalidArgument (exit 2 in
    the CLI, 400 in the API) or ArgumentTooLarge (413) saying what is wrong."""
    what = f"the argument of workflow '{workflow_name}'"
    arg = {} if arg is None else arg
    if not isinstance(arg, dict):
        raise InvalidArgument(
            f'{what} must be a JSON object, like {{"key": "value"}}; got {type(arg).__name__}'
        )
    if nesting_depth(arg) > MAX_DEPTH:
        raise InvalidArgument(f"{what} nests arrays and objects deeper than {MAX_DEPTH} levels")
    try:
        text = encode(arg, what=what)
    except JsonValueError as error:
        raise InvalidArgument(str(error)) from None
    size = len(text.encode("utf-8"))
    if size > limit_bytes:
        raise ArgumentTooLarge(
            f"{what} is {size} bytes, over the payload limit of {limit_bytes} bytes "
            "(engine.payload_limit_bytes): pass a reference to the data (an id, a URL) instead"
        )
    return text


def nesting_depth(value: Any) -> int:
    """How deep lists, tuples and dicts nest in `value` (a scalar is 0), without recursion."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list | tuple):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        if depth <= MAX_DEPTH:  # deeper than the limit is all a caller needs to know
            stack.extend((child, depth + 1) for child in children)
    return deepest


def parse_json_text(text: str) -> Any:
    """The JSON value of `text`; JsonValueError says in one line what is wrong with it
    (malformed, nested too deeply for the parser, an integer too long to convert)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise JsonValueError(f"{error}") from None
    except RecursionError:
        raise JsonValueError(
            f"arrays and objects nest too deeply (at most {MAX_DEPTH} levels)"
        ) from None
    except ValueError:  # an integer literal past Python's limit for converting text
        raise JsonValueError(
            f"an integer has more than {sys.get_int_max_str_digits()} digits; "
            "send such a number as a string"
        ) from None

"""One line stays one line: control characters and line breaks in a message, escaped."""

from __future__ import annotations

import re

_BREAKING = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def one_line(text: str) -> str:
    """`text` with every control character and line or paragraph separator escaped as
    Python writes it (`\\n`, `\\x1e`, `\\u2028`), so it prints as exactly one line."""
    return _BREAKING.sub(_escape, text)

"""Time and ids as the store records them: epoch milliseconds and time-ordered UUIDs."""

from __future__ import annotations

import random
import threading
import time

_RANDOM_BITS = 74
_last = [0, 0]  # the millisecond and random part of the latest id made by this process
_lock = threading.Lock()


def now_ms() -> int:
    """The current time in epoch milliseconds."""
    return time.time_ns() // 1_000_000


def new_id() -> str:
    """A fresh id (UUID version 7): ordered by time, and by creation within this process.

    Within one millisecond the random part counts up from its first value (RFC 9562,
    "monotonic random"), so the ids of executions started in the same millisecond sort in
    the order they were made.
    """
    with _lock:
        millis = max(now_ms(), _last[0])
        if millis == _last[0] and _last[1] + 1 < 1 << _RANDOM_BITS:
            rand = _last[1] + 1
        else:
            rand = random.getrandbits(_RANDOM_BITS - 1)  # leave room to count up
        _last[:] = [millis, rand]
    high, low = rand >> 62, rand & ((1 << 62) - 1)
    value = millis << 80 | 0x7 << 76 | high << 64 | 0x2 << 62 | low
    text = f"{value:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def job_execution_id(execution_id: str, seq: int) -> str:
    """The id of job execution number `seq` of an execution, derived (never stored).

    The execution's UUID with `seq` mixed into its random bits: unique within the
    execution, and a UUID like the rest (the store keeps only (execution_id, seq)).
    """
    if 0 <= seq < _LAST_GROUP_LIMIT:  # the common case: only the last group changes
        return f"{execution_id[:24]}{int(execution_id[24:], 16) ^ seq:012x}"
    value = int(execution_id.replace("-", ""), 16) ^ (seq & ((1 << 62) - 1))
    text = f"{value:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


_LAST_GROUP_LIMIT = 1 << 48
"""Sequence numbers below this change only the UUID's last group (12 hex digits)."""

"""Per-job capture of print and logging output, kept apart for parallel jobs."""

from __future__ import annotations

import logging
import sys
import threading
import time
from contextvars import ContextVar
from typing import Any, TextIO

from stackflow.jsonvalue import format_datetime


class JobLog:
    """The log lines one job execution wrote: `<time> <LEVEL> <message>`.

    When the job execution is traced, each line ends with its `tag`
    (` trace_id=<32 hex> span_id=<16 hex>`).
    """

    tag = ""

    def __init__(self, earlier: str = "") -> None:
        self._lines: list[str] = earlier.split("\n") if earlier else []
        self._partial: dict[str, str] = {}
        self._lock = threading.Lock()

    def add(self, level: str, message: str) -> None:
        """Append one entry with the current time."""
        stamp = _now_text()
        with self._lock:
            for line in message.splitlines() or [""]:
                self._lines.append(f"{stamp} {level} {line}{self.tag}")

    def write_stream(self, level: str, text: str) -> None:
        """Append text written to stdout/stderr, one entry per completed line."""
        with self._lock:
            pending = self._partial.get(level, "") + text
            *lines, rest = pending.split("\n")
            self._partial[level] = rest
        for line in lines:
            self.add(level, line)

    def text(self) -> str:
        """All entries so far, newline separated (a partial last line included)."""
        if not self._lines and not self._partial:
            return ""
        with self._lock:
            partial = [(level, text) for level, text in self._partial.items() if text]
            self._partial.clear()
        for level, text in partial:
            self.add(level, text)
        with self._lock:
            return "\n".join(self._lines)


def _now_text() -> str:
    from datetime import UTC, datetime

    return format_datetime(datetime.fromtimestamp(time.time(), tz=UTC))


current_log: ContextVar[JobLog | None] = ContextVar("stackflow_current_log", default=None)


class _StreamRouter:
    """Stands in for sys.stdout/stderr: text written inside a job goes to its log."""

    def __init__(self, original: TextIO, level: str) -> None:
        self._original = original
        self._level = level

    def write(self, text: str) -> int:
        log = current_log.get()
        if log is None:
            return self._original.write(text)
        log.write_stream(self._level, text)
        return len(text)

    def flush(self) -> None:
        if current_log.get() is None:
            self._original.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._original, name)


class _LogHandler(logging.Handler):
    """Root handler: records emitted inside a job go to that job's log."""

    def emit(self, record: logging.LogRecord) -> None:
        log = current_log.get()
        if log is None:
            self._fall_back(record)
            return
        message = record.getMessage()
        if record.exc_info:
            message += "\n" + logging.Formatter().formatException(record.exc_info)
        log.add(record.levelname, message)

    def _fall_back(self, record: logging.LogRecord) -> None:
        others = [h for h in logging.getLogger().handlers if h is not self]
        if not others and record.levelno >= logging.WARNING and logging.lastResort:
            logging.lastResort.handle(record)


_handler = _LogHandler()
_install_lock = threading.Lock()


def install_capture() -> None:
    """Route print and logging inside jobs to their logs (idempotent, cheap to repeat)."""
    if isinstance(sys.stdout, _StreamRouter) and _handler in logging.getLogger().handlers:
        return
    with _install_lock:
        if not isinstance(sys.stdout, _StreamRouter):
            sys.stdout = _StreamRouter(sys.stdout, "INFO")
        if not isinstance(sys.stderr, _StreamRouter):
            sys.stderr = _StreamRouter(sys.stderr, "ERROR")
        root = logging.getLogger()
        if _handler not in root.handlers:
            if not root.handlers and root.level == logging.WARNING:
                root.setLevel(logging.INFO)
            root.addHandler(_handler)

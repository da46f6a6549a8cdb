"""The worker's log through `logging`: its text lines as always, or one JSON object per line."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any, TextIO

from stackflow.jsonvalue import format_datetime
from stackflow.logs import current_log, install_capture

WORKER_LOGGER = "stackflow.worker"
TEXT = "text"
JSON = "json"
LOG_FORMATS = (TEXT, JSON)
FIELDS = ("workerId", "executionId", "workflowName", "stackedJobName", "status", "error")
"""The record attributes (given as `extra`) that a JSON line carries when they are set."""


def _stamp(created: float) -> str:
    return format_datetime(datetime.fromtimestamp(created, tz=UTC))


class TextFormatter(logging.Formatter):
    """`<time> <message>`; a record with `plain=True` is its message alone."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if getattr(record, "plain", False):
            return message
        return f"{_stamp(record.created)} {message}"


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, message, and the FIELDS it has."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": _stamp(record.created),
            "level": record.levelname,
            "message": record.getMessage(),
        }
        if record.name != WORKER_LOGGER:
            entry["logger"] = record.name
        for name in FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = value
        if record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class _OutsideJobs(logging.Filter):
    """Records written inside a job belong to that job's log, not the worker's."""

    def filter(self, record: logging.LogRecord) -> bool:
        return current_log.get() is None


_installed: list[tuple[logging.Logger, logging.Handler]] = []


def worker_logger(log_format: str, stream: TextIO) -> logging.Logger:
    """The worker's logger, writing to `stream` in `log_format` (replacing an earlier set-up).

    In JSON, warnings that libraries log (or raise with `warnings.warn`) outside jobs go
    to `stream` as JSON too.
    """
    for logger, handler in _installed:
        logger.removeHandler(handler)
    _installed.clear()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter() if log_format == JSON else TextFormatter())
    logger = logging.getLogger(WORKER_LOGGER)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    logger.addHandler(handler)
    _installed.append((logger, handler))
    if log_format == JSON:
        install_capture()  # first: it keeps job logging at INFO only while root has no handler
        others = logging.StreamHandler(stream)
        others.setFormatter(handler.formatter)
        others.setLevel(logging.WARNING)
        others.addFilter(_OutsideJobs())
        logging.getLogger().addHandler(others)
        _installed.append((logging.getLogger(), others))
        logging.captureWarnings(True)
    return logger


def writes_json(logger: logging.Logger) -> bool:
    """Whether `logger` writes JSON lines."""
    return any(isinstance(handler.formatter, JsonFormatter) for handler in logger.handlers)

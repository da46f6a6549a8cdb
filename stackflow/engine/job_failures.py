"""How a job's failure is told: the JobFailed its parent sees, its message and traceback."""

from __future__ import annotations

import re
import traceback

from stackflow.errors import JobFailed
from stackflow.records import ErrorInfo

PASSED_ON = re.compile(r"^Job '(?P<job>.*?)' failed: (?P<type>[^:\s]+): (?P<message>.*)$", re.S)
"""The message of a JobFailed: a child that failed because its own child did passes on
the failure where it began (one `Job 'x' failed:` however deep, not one per level)."""


def job_failed_from_error(job_name: str, error: ErrorInfo) -> JobFailed:
    """The JobFailed a parent sees for a child that failed with `error`."""
    error_type, message = error.get("type", "Error"), error.get("message", "")
    passed_on = PASSED_ON.match(message) if error_type == JobFailed.__name__ else None
    if passed_on is not None:
        job_name, error_type, message = passed_on["job"], passed_on["type"], passed_on["message"]
    return JobFailed(
        job_name,
        error_type,
        message,
        stacked_job_name=error.get("stackedJobName"),
        traceback=error.get("traceback"),
    )


REACHED = "\nThat failure reached this job as:\n"


def traceback_text(error: BaseException, origin: JobFailed | None) -> str:
    """This job's traceback, after the one where the failure began (not the whole chain of
    jobs it went through: a record stays small however deep the jobs called each other)."""
    own = "".join(traceback.format_exception(error))
    if origin is not None and origin.traceback:
        return f"{origin.traceback.split(REACHED, 1)[0]}{REACHED}{own}"
    return own


def error_message(error: BaseException) -> str:
    """The error's message; one that cannot be printed, or an exit, still says what it was."""
    if isinstance(error, KeyboardInterrupt | SystemExit):
        return f"{error!r} raised by the job"
    try:
        return str(error)
    except Exception:
        return "unprintable exception"

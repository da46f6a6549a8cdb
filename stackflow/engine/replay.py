"""History: the recorded job executions and waits of one execution, indexed for replay."""

from __future__ import annotations

import json

from stackflow.records import JobStatus
from stackflow.store.base import WORKER_LOST_ERROR, JobRow, WaitRow

POSITION_WIDTH = 6


def child_path(parent_path: str, position: int) -> str:
    """The call path of the child at `position` of the job at `parent_path`."""
    segment = f"{position:0{POSITION_WIDTH}d}"
    return f"{parent_path}.{segment}" if parent_path else segment


def parent_and_position(path: str) -> tuple[str, int]:
    """The parent call path and the position within it of a child's call path."""
    parent, _, last = path.rpartition(".")
    return parent, int(last)


class History:
    """The recorded job executions and waits of one execution, indexed for replay."""

    def __init__(self, rows: list[JobRow], waits: list[WaitRow]) -> None:
        self.attempts: dict[str, list[JobRow]] = {}
        self.children: dict[str, set[int]] = {}
        self.waits = {wait.call_path: wait for wait in waits}
        self.next_seq = max((row.seq for row in rows), default=0) + 1
        for path in [row.call_path for row in rows] + list(self.waits):
            if path:
                parent, position = parent_and_position(path)
                self.children.setdefault(parent, set()).add(position)
        for row in rows:
            self.attempts.setdefault(row.call_path, []).append(row)
        self.rerun = self._rerun_paths()

    def latest(self, path: str) -> JobRow | None:
        """The last attempt recorded at `path`, if any."""
        attempts = self.attempts.get(path)
        return attempts[-1] if attempts else None

    def has_unfinished(self) -> bool:
        """Whether a job was left RUNNING by a process that died."""
        return any(a[-1].status == JobStatus.RUNNING for a in self.attempts.values())

    def _rerun_paths(self) -> set[str]:
        """Failed jobs that run again: abandoned ones, and the children whose failure failed
        the execution in any earlier attempt (whatever ended the last one)."""
        rerun = {
            path
            for path, attempts in self.attempts.items()
            if attempts[-1].status == JobStatus.FAILED
            and _error_type(attempts[-1]) == WORKER_LOST_ERROR
        }
        for main in self.attempts.get("", []):
            if main.status == JobStatus.FAILED:
                self._add_failure_chain(main.failure_cause, rerun)
        return rerun

    def _add_failure_chain(self, cause: str | None, rerun: set[str]) -> None:
        """Add the chain of child failures that starts at `cause` (each still FAILED)."""
        while cause is not None and cause not in rerun:
            row = self.latest(cause)
            if row is None or row.status != JobStatus.FAILED:
                return
            rerun.add(cause)
            cause = row.failure_cause


def _error_type(row: JobRow) -> str | None:
    return json.loads(row.error_json).get("type") if row.error_json else None

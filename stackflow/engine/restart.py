"""Restart: which job executions of an old execution a new one carries, as copies."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from stackflow.clock import new_id, now_ms
from stackflow.errors import UnknownJob
from stackflow.records import Execution, JobStatus
from stackflow.store.base import PATCH, JobRow, NewExecution, Store, WaitRow
from stackflow.store.rows import invoker_json


class _Keep:
    """The argument of `Engine.restart` when none is given: the old execution's."""

    def __repr__(self) -> str:
        return "KEEP_ARGUMENT"


KEEP_ARGUMENT = _Keep()


def stacked_names(rows: Sequence[JobRow]) -> list[str]:
    """The stacked job names of an execution's job executions, each once, in start order."""
    return list(dict.fromkeys(row.stacked_job_name for row in rows))


def _ancestors(call_path: str) -> set[str]:
    """The call paths of the jobs that called the job at `call_path` (the main job's is "")."""
    parts = call_path.split(".") if call_path else []
    return {".".join(parts[:index]) for index in range(len(parts))}


def carried_rows(
    rows: Sequence[JobRow], execution_id: str, from_job: str | None, new_execution_id: str
) -> list[JobRow]:
    """Copies, for the new execution, of the finished job executions recorded before the
    first one named `from_job` (a stacked job name, or a job execution's id), none without
    it. UnknownJob lists the names it could be.

    The main job is never carried, nor the jobs that called `from_job`: they run again
    (their replay answers their earlier calls from the copies) so that `from_job` does.
    """
    if from_job is None:
        return []
    first = next((row for row in rows if from_job in (row.stacked_job_name, row.id)), None)
    if first is None:
        raise UnknownJob.named(from_job, execution_id, stacked_names(rows))
    callers = _ancestors(first.call_path) | {""}
    kept = {
        row.call_path: row
        for row in rows
        if row.seq < first.seq and row.status == JobStatus.SUCCESS and row.call_path not in callers
    }
    ordered = sorted(kept.values(), key=lambda row: row.seq)
    return [
        replace(
            row,
            execution_id=new_execution_id,
            seq=seq,
            failure_cause=None,
        )
        for seq, row in enumerate(ordered, start=1)
    ]


def carried_markers(waits: Sequence[WaitRow], new_execution_id: str) -> list[WaitRow]:
    """Copies of the old execution's `ctx.patched` markers, so the copies replay alike."""
    return [replace(w, execution_id=new_execution_id) for w in waits if w.kind == PATCH]


def restart_execution(store: Store, old: Execution, from_job: str | None, arg_json: str) -> str:
    """Create the restart of the final execution `old` with `arg_json`, carrying what
    `carried_rows` and `carried_markers` say, in one transaction; the new execution's id."""
    new = NewExecution(
        new_id(), old.workflow_name, arg_json, invoker_json(old.invoker), None, now_ms()
    )
    copies = carried_rows(store.load_job_rows(old.id), old.id, from_job, new.id)
    markers = carried_markers(store.load_waits(old.id), new.id)
    store.restart_execution(new, old.id, copies, markers)
    return new.id

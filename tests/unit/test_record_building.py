"""Job executions read from the store are the same records the dataclass constructor makes."""

from __future__ import annotations

import dataclasses

from stackflow.records import JobExecution, JobStatus
from stackflow.store.base import JobRow
from stackflow.store.rows import job_executions_from_rows


def test_a_job_execution_read_from_a_row_equals_one_built_by_its_constructor() -> None:
    row = JobRow(
        "01a22e95-7f6c-718e-ba3d-6a84d2e28f40",
        "000001",
        "child",
        "main/child",
        JobStatus.SUCCESS,
        2,
        "df7224ea86d7",
        1_796_077_879_262,
        1_796_077_879_300,
        '{"i":1}',
        '{"ok":true}',
        None,
        "a log line\n",
        None,
        3,
    )

    (read,) = job_executions_from_rows([row])
    fields = {f.name: getattr(read, f.name) for f in dataclasses.fields(JobExecution)}
    built = JobExecution(**fields)

    assert read == built
    assert vars(read).keys() == vars(built).keys()
    assert (read.input, read.result, read.attempt, read.call_path) == (
        {"i": 1},
        {"ok": True},
        2,
        "000001",
    )
    assert read.finished_at is not None and read.finished_at.microsecond == 300_000

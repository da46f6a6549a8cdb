"""`check --replay`: the engine's replay in a read-only mode, against the current code.

Every execution that may still run is replayed as a resume would replay it: the
main job's body runs, its recorded calls are answered from the record, and a
recorded job that would run again (unfinished, or on the failure path) has its
own body replayed likewise. A body stops at its first call past the record (a
call never made before, a wait not yet resolved); no child body that had not
started runs, and nothing is written. What a replay would meet as
non-determinism is reported, with the recorded call and the new one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from stackflow.definitions.handles import JobHandle, completed_handle, failed_handle
from stackflow.definitions.jobs import WorkflowJob
from stackflow.definitions.workflows import Workflow
from stackflow.engine.execution_run import ExecutionRun, RunSettings
from stackflow.engine.job_run import JobRun
from stackflow.engine.replay import History
from stackflow.errors import JobFailed, NonDeterminismError
from stackflow.jsonvalue import encode
from stackflow.records import Execution, ExecutionStatus, ReplayFinding
from stackflow.signals import Suspend
from stackflow.store.base import Lease, WaitRow
from stackflow.store.rows import invoker_json

if TYPE_CHECKING:
    from collections.abc import Callable

REPLAYED_STATUSES = (
    ExecutionStatus.PENDING_RESUME,
    ExecutionStatus.PENDING_RETRY,
    ExecutionStatus.WAITING,
    ExecutionStatus.RUNNING,
    ExecutionStatus.FAILED,
)
"""The statuses of executions that may still run (FAILED ones by a resume)."""
EXECUTIONS_PER_READ = 500
"""Executions whose histories are read together."""


class CheckRun(ExecutionRun):
    """An execution replayed read-only: its history given, its first finding kept."""

    def __init__(
        self, settings: RunSettings, lease: Lease, workflow: Workflow, history: History
    ) -> None:
        self._given = history
        self.finding: ReplayFinding | None = None
        super().__init__(settings, lease, workflow)

    def _load_history(self) -> History:
        return self._given

    def report(self, job: JobRun, error: NonDeterminismError) -> None:
        """Keep the first non-determinism met in this execution."""
        if self.finding is None:
            self.finding = ReplayFinding(
                self.lease.execution_id, self.workflow.name, job.row.stacked_job_name, str(error)
            )

    def check(self) -> ReplayFinding | None:
        """Replay the main job (when it made recorded calls); the first finding, if any."""
        if self.history.children.get(""):
            main_job = self.workflow.main_job
            replay(CheckedJobRun.for_path(self, main_job, "", self.lease.arg_json, parent=None))
        return self.finding


def replay(job: JobRun) -> None:
    """Run a recorded job's body in check mode until it returns, fails or stops."""
    try:
        job.execute_sync()
    except Suspend:
        return  # it stopped at its first call past the record


class CheckedJobRun(JobRun):
    """A JobRun whose calls are answered from the record only, and which writes nothing."""

    run: CheckRun

    def call_child(self, job: WorkflowJob, input: Any) -> Any:
        child, cached = self._open_child(job, input)
        if child is None:
            return cached
        self._replay_recorded(child)
        raise Suspend(None)  # past the record: this body stops here

    def start_child(self, job: WorkflowJob, input: Any) -> JobHandle:
        try:
            child, cached = self._open_child(job, input)
        except JobFailed as failed:
            return failed_handle(failed)
        if child is None:
            return completed_handle(cached)
        self._replay_recorded(child)
        return failed_handle(Suspend(None))  # the body stops where it needs the result

    def _replay_recorded(self, child: JobRun) -> None:
        """Replay a child that a resume would run again, if it made recorded calls."""
        history = self.run.history
        path = child.row.call_path
        if history.latest(path) is not None and history.children.get(path):
            replay(child)

    def _nondeterministic(self, path: str, recorded: str, now: str) -> None:
        try:
            super()._nondeterministic(path, recorded, now)
        except NonDeterminismError as error:
            self.run.report(self, error)
            raise

    def _fail(self, error: BaseException) -> None:
        if isinstance(error, NonDeterminismError):
            self.run.report(self, error)
        super()._fail(error)

    # nothing is written
    def _record_wait(self, wait: WaitRow) -> None:
        raise Suspend(None)  # a wait or sleep past the record: the body stops here

    def _record_marker(self, marker: WaitRow) -> None:
        return None

    def record_start_if_needed(self) -> None:
        return None

    def record_with(self, write: Callable[[bool], object]) -> None:
        return None


def check_replay(
    settings: RunSettings, workflows: dict[str, Workflow], executions: Sequence[Execution]
) -> list[ReplayFinding]:
    """The findings of replaying each execution against `workflows` (nothing is written)."""
    findings = []
    for start in range(0, len(executions), EXECUTIONS_PER_READ):
        batch = executions[start : start + EXECUTIONS_PER_READ]
        histories = settings.store.load_histories([execution.id for execution in batch])
        for execution in batch:
            finding = _check_one(settings, workflows, execution, History(*histories[execution.id]))
            if finding is not None:
                findings.append(finding)
    return findings


def _check_one(
    settings: RunSettings, workflows: dict[str, Workflow], execution: Execution, history: History
) -> ReplayFinding | None:
    workflow = workflows.get(execution.workflow_name)
    if workflow is None:
        message = (
            f"workflow '{execution.workflow_name}' is not defined by this project: nothing "
            "can run this execution"
        )
        return ReplayFinding(execution.id, execution.workflow_name, None, message)
    lease = Lease(
        execution.id,
        execution.workflow_name,
        owner="check --replay",
        fence=0,
        arg_json=encode(execution.arg),
        invoker_json=invoker_json(execution.invoker),
    )
    return CheckRun(settings, lease, workflow, history).check()

"""The Engine: start, wait for, resume, cancel and inspect executions (the service layer)."""

from __future__ import annotations

import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stackflow.arguments import argument_json
from stackflow.clock import new_id, now_ms
from stackflow.config import (
    CONFIG_PATH_VARIABLE,
    DEFAULT_DATABASE_URL,
    DEFAULT_LEASE_SECONDS,
    DEFAULT_MAX_CONCURRENT_EXECUTIONS,
    DEFAULT_MAX_CONCURRENT_PER_WORKFLOW,
    DEFAULT_MAX_PARALLEL_CHILDREN,
    DEFAULT_PAYLOAD_LIMIT_BYTES,
    RetentionSettings,
    find_config,
)
from stackflow.definitions.starter import register_starter
from stackflow.engine import bulk
from stackflow.engine.bulk import Duration
from stackflow.engine.heartbeat import Heartbeat
from stackflow.engine.replay_check import REPLAYED_STATUSES, check_replay
from stackflow.engine.restart import KEEP_ARGUMENT, restart_execution
from stackflow.engine.retention import PruneReport, prune, prune_selection
from stackflow.engine.runner import Runner
from stackflow.engine.scheduler import ScheduleFirer, TickErrorLog
from stackflow.engine.waiting import DEFAULT_PROGRESS_SECONDS, ProgressCallback, Waiter
from stackflow.engine.wakeups import Wakeups
from stackflow.errors import (
    DefinitionError,
    ExecutionNotFound,
    NotRestartable,
    UnknownMachineUser,
    UnknownWorkflow,
)
from stackflow.jsonvalue import decode, encode
from stackflow.logs import install_capture
from stackflow.project.loader import load_project
from stackflow.records import (
    Execution,
    ExecutionStatus,
    Invoker,
    ReplayFinding,
    WorkflowDetail,
    WorkflowSummary,
    parse_statuses,
)
from stackflow.store import open_store
from stackflow.store.base import (
    WAIT_POINT,
    Lease,
    NewExecution,
    PendingWork,
    ScheduleState,
    Store,
    WorkflowEntry,
)
from stackflow.store.rows import invoker_json
from stackflow.telemetry.observer import RunMetrics, caller_trace_context

if TYPE_CHECKING:
    from stackflow.definitions.schedules import Schedule
    from stackflow.definitions.waitpoints import WaitPoint
    from stackflow.definitions.workflows import Workflow
    from stackflow.project.project import Project

WORKER_STALE_SECONDS = 6.0
"""A worker whose last beat is older than this is not live (three missed heartbeats)."""


def _owner_id() -> str:
    """A short random id of this engine: the lease owner written on every claim."""
    return uuid.uuid4().hex[:12]


def process_name() -> str:
    """`host:pid` of this process, for worker ids and the workers table."""
    return f"{socket.gethostname()}:{os.getpid()}"


class Engine:
    """Starts, runs, waits for and inspects executions of a set of workflows."""

    def __init__(
        self,
        database: str | None = None,
        workflows: Iterable[Workflow] = (),
        *,
        env: Mapping[str, Any] | None = None,
        machine_users: Mapping[str, Mapping[str, Any]] | None = None,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        payload_limit_bytes: int = DEFAULT_PAYLOAD_LIMIT_BYTES,
        max_parallel_children: int = DEFAULT_MAX_PARALLEL_CHILDREN,
        sqlite_synchronous: str = "NORMAL",
        max_concurrent_executions: int | None = DEFAULT_MAX_CONCURRENT_EXECUTIONS,
        max_concurrent_per_workflow: int | None = DEFAULT_MAX_CONCURRENT_PER_WORKFLOW,
        schedules: Iterable[Schedule] = (),
        project: Project | None = None,
        retention: RetentionSettings | None = None,
    ) -> None:
        self.database_url = database or DEFAULT_DATABASE_URL
        self.workflows: dict[str, Workflow] = {}
        for workflow in workflows:
            self._add_workflow(workflow)
        self.env = dict(env or {})
        self.machine_users = None if machine_users is None else dict(machine_users)
        self.lease_seconds = lease_seconds
        self.payload_limit_bytes = payload_limit_bytes
        self.sqlite_synchronous = sqlite_synchronous
        self.max_concurrent_executions = max_concurrent_executions
        self.max_concurrent_per_workflow = max_concurrent_per_workflow
        self.project = project
        self.retention = retention or RetentionSettings()
        """What `stackflow worker` deletes in the background (`[retention]`; default nothing)."""
        self.schedules = {schedule.name: schedule for schedule in schedules}
        if project is not None:
            self.schedules.update(project.schedules)
        for schedule in self.schedules.values():
            self._add_workflow(schedule.workflow)
        for trigger in project.record_triggers.values() if project is not None else ():
            self._add_workflow(trigger.workflow)
        self.owner = _owner_id()
        self._store: Store | None = None
        self._wakeups: Wakeups | None = None
        self._open_lock = threading.Lock()
        self.heartbeat = Heartbeat(
            lambda: self.store, self.owner, self.lease_ms, f"{process_name()} {self.owner}"
        )
        self._runner = Runner(self, max_parallel_children)
        self._scheduler = ScheduleFirer(self.schedules, lambda: self.store, self._start)
        self.metrics: RunMetrics | None = None
        """Where the runs of this engine report their measurements (a worker's or the web
        app's Prometheus metrics), if anywhere."""

    @classmethod
    def from_config(cls, path: str | Path | None = None) -> Engine:
        """An engine for the project of `path` (default: the stackflow.toml found from here)."""
        return cls.for_project(load_project(path))

    @classmethod
    def for_project(cls, project: Project) -> Engine:
        """An engine for a loaded project (its workflows, store and settings)."""
        config = project.config
        settings = config.engine
        return cls(
            config.database_url,
            project.workflows.values(),
            env=config.env,
            machine_users={n: u.attributes for n, u in config.machine_users.items()},
            lease_seconds=settings.lease_seconds,
            payload_limit_bytes=settings.payload_limit_bytes,
            max_parallel_children=settings.max_parallel_children,
            sqlite_synchronous=settings.sqlite_synchronous,
            max_concurrent_executions=settings.max_concurrent_executions,
            max_concurrent_per_workflow=settings.max_concurrent_per_workflow,
            project=project,
            retention=config.retention,
        )

    # plumbing
    @property
    def store(self) -> Store:
        """The store, opened (and migrated) on first use."""
        if self._store is None:
            with self._open_lock:
                if self._store is None:
                    store = open_store(
                        self.database_url, sqlite_synchronous=self.sqlite_synchronous
                    )
                    if self.workflows:
                        store.sync_workflows(self._registry_entries(), now_ms())
                    self._store = store
        return self._store

    @property
    def wakeups(self) -> Wakeups:
        """This process's listener for status changes, started on first use."""
        if self._wakeups is None:
            store = self.store
            with self._open_lock:
                if self._wakeups is None:
                    self._wakeups = Wakeups(store.subscribe())
        return self._wakeups

    def _registry_entries(self) -> list[WorkflowEntry]:
        return [
            WorkflowEntry(wf.name, wf.main_job.name, self.job_versions(wf))
            for wf in self.workflows.values()
        ]

    def job_versions(self, workflow: Workflow) -> dict[str, str]:
        """Job name → version of every job function of `workflow`."""
        if self.project is not None:
            jobs = self.project.job_functions(workflow)
            return {name: job.version for name, job in jobs.items()}
        return {workflow.main_job.name: workflow.main_job.version}

    def _add_workflow(self, workflow: Workflow) -> None:
        known = self.workflows.get(workflow.name)
        if known is not None and known is not workflow:
            raise DefinitionError(f"two workflows are named {workflow.name!r}")
        self.workflows[workflow.name] = workflow

    def close(self) -> None:
        """Stop the heartbeat, the listener, the job threads and the store connection."""
        self.heartbeat.stop()
        if self._store is not None:
            self.heartbeat.unregister_worker()
        if self._wakeups is not None:
            self._wakeups.close()
            self._wakeups = None
        self._runner.close()
        if self._store is not None:
            self._store.close()
            self._store = None

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # starting
    def get_workflow(self, name: str) -> Workflow:
        """The workflow called `name`; UnknownWorkflow lists the known ones."""
        workflow = self.workflows.get(name)
        if workflow is None:
            raise UnknownWorkflow.named(name, self.workflows)
        return workflow

    def resolve_invoker(self, invoker: str | Mapping[str, Any] | None) -> Invoker | None:
        """The invoker record of a machine user name (checked against the config)."""
        if invoker is None:
            return None
        if isinstance(invoker, Mapping):
            return Invoker(
                id=str(invoker["id"]),
                type=str(invoker.get("type", "machine_user")),
                attributes=dict(invoker.get("attributes", {})),
            )
        if self.machine_users is None:
            return Invoker(id=invoker, type="machine_user", attributes={})
        if invoker not in self.machine_users:
            raise UnknownMachineUser.named(invoker, self.machine_users)
        return Invoker(
            id=invoker, type="machine_user", attributes=dict(self.machine_users[invoker])
        )

    def start(
        self,
        workflow: Workflow | str,
        arg: Any = None,
        *,
        invoker: str | Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> str:
        """Create a PENDING execution and return its id (the same id for a repeated key)."""
        return self._start(workflow, arg, invoker=invoker, idempotency_key=idempotency_key)[0]

    def _start(
        self,
        workflow: Workflow | str,
        arg: Any,
        *,
        invoker: str | Mapping[str, Any] | None,
        idempotency_key: str | None,
    ) -> tuple[str, bool]:
        """The execution id, and whether this call created it."""
        workflow = self._runnable_definition(workflow)
        new = NewExecution(
            id=new_id(),
            workflow_name=workflow.name,
            arg_json=self._arg_json(workflow, arg),
            invoker_json=invoker_json(self.resolve_invoker(invoker)),
            idempotency_key=idempotency_key,
            created_at_ms=now_ms(),
            trace_context=caller_trace_context(),
        )
        execution_id = self.store.create_execution(new)
        return execution_id, execution_id == new.id

    def _runnable_definition(self, workflow: Workflow | str) -> Workflow:
        if isinstance(workflow, str):
            return self.get_workflow(workflow)
        if workflow.name in self.workflows:
            # the engine runs its own loaded definition of that name (the caller may hold
            # the same workflow imported before the project was loaded)
            return self.workflows[workflow.name]
        self._add_workflow(workflow)
        return workflow

    def _arg_json(self, workflow: Workflow, arg: Any) -> str:
        return argument_json(workflow.name, arg, self.payload_limit_bytes)

    # reading
    def describe_workflows(self) -> list[WorkflowSummary]:
        """Every workflow of this engine, by name, with its job count and registry time."""
        records = {record.name: record for record in self.store.list_workflow_records()}
        summaries = []
        for name in sorted(self.workflows):
            workflow = self.workflows[name]
            record = records.get(name)
            summaries.append(
                WorkflowSummary(
                    name=name,
                    main_job=workflow.main_job.name,
                    job_count=len(self.job_versions(workflow)),
                    updated_at=record.updated_at if record is not None else None,
                )
            )
        return summaries

    def describe_workflow(self, name: str) -> WorkflowDetail:
        """The registry's record of a workflow; UnknownWorkflow when it knows none by that name."""
        records = {record.name: record for record in self.store.list_workflow_records()}
        record = records.get(name)
        if record is None:
            raise UnknownWorkflow.named(name, self.workflows)
        used = self.store.job_versions_used(name)
        other = {
            job: sorted(versions - {record.job_versions.get(job)})
            for job, versions in sorted(used.items())
            if versions - {record.job_versions.get(job)}
        }
        return WorkflowDetail(record, other)

    def schedule_states(self) -> dict[str, ScheduleState]:
        """What the store knows of each schedule (first seen, last failed tick)."""
        return self.store.schedule_states()

    def find_execution(self, execution_id: str, *, with_jobs: bool = True) -> Execution | None:
        """The execution (with its job executions unless `with_jobs` is False), or None."""
        return self.store.find_execution(execution_id, with_jobs=with_jobs)

    def pending_work(self) -> list[PendingWork]:
        """Per workflow, how many executions wait for a worker and since when (whole store)."""
        return self.store.pending_work()

    def get_execution(self, execution_id: str) -> Execution:
        """The execution with its job executions; ExecutionNotFound if there is none."""
        execution = self.find_execution(execution_id)
        if execution is None:
            raise ExecutionNotFound(execution_id)
        return execution

    def list_executions(
        self,
        workflow_name: str | None = None,
        status: str | Sequence[str] | None = None,
        *,
        limit: int | None = None,
        before: str | None = None,
    ) -> list[Execution]:
        """Executions, newest first, optionally of one workflow and in some statuses.

        `before` (an execution id, e.g. the last of the previous page) lists only older ones.
        """
        return self.store.list_executions(
            workflow_name=workflow_name,
            statuses=parse_statuses(status),
            limit=limit,
            before=before,
        )

    # changing
    def resume(self, execution_id: str) -> None:
        """Make a FAILED execution runnable again (same id); NotResumable otherwise."""
        self.store.mark_resumable(execution_id, now_ms())

    def resolve(
        self,
        execution_id: str,
        wait_point: str | WaitPoint,
        callback: Callable[[Any], Any] | None = None,
    ) -> Any:
        """Resolve a WAITING execution's wait point with `callback(payload)`; return the value.

        The execution becomes PENDING_RESUME and its `wait` returns the value on replay.
        """
        key = wait_point if isinstance(wait_point, str) else wait_point.key
        payload = self._wait_payload(execution_id, key)
        value = callback(payload) if callback is not None else payload
        result_json = encode(value, what=f"The result of wait point '{key}'")
        self.store.resolve_wait(execution_id, key, result_json, now_ms())
        return decode(result_json)

    def _wait_payload(self, execution_id: str, key: str) -> Any:
        pending = [
            wait
            for wait in self.store.load_waits(execution_id)
            if wait.kind == WAIT_POINT and wait.key == key and wait.resolved_at_ms is None
        ]
        if not pending:
            self.store.resolve_wait(execution_id, key, "null", now_ms())  # raises the right error
        return decode(pending[0].payload_json) if pending and pending[0].payload_json else None

    # repairing (restart.py, bulk.py, retention.py)
    def restart(
        self, execution_id: str, from_job: str | None = None, arg: Any = KEEP_ARGUMENT
    ) -> str:
        """Start a new execution of a final one's workflow; return the new execution's id.

        It records `restarted_from`, runs with `arg` (default: the old argument) and
        carries copies of the old execution's finished job executions recorded before
        the first job execution with stacked name `from_job` (none without it), which
        its replay answers from the record. Raises ExecutionNotFound, NotRestartable (not
        final) or UnknownJob (listing the stacked job names).
        """
        old = self.store.find_execution(execution_id)
        if old is None:
            raise ExecutionNotFound(execution_id)
        if not old.status.is_final:
            raise NotRestartable(execution_id, old.status)
        workflow = self.get_workflow(old.workflow_name)
        arg_json = self._arg_json(workflow, old.arg if arg is KEEP_ARGUMENT else arg)
        return restart_execution(self.store, old, from_job, arg_json)

    def resume_all(
        self,
        workflow_name: str | None = None,
        status: str | Sequence[str] | None = None,
        *,
        since: Duration | None = None,
        dry_run: bool = False,
    ) -> int:
        """Resume every FAILED or PENDING_RETRY execution matching the filters (`since`:
        created within that long, e.g. "1h"), in short batches; how many were resumed
        (with `dry_run`, how many match)."""
        selection = bulk.selection(bulk.RESUME, workflow_name, status, since)
        if dry_run:
            return self.store.count_executions(selection)
        return bulk.in_batches(
            lambda after: self.store.resume_batch(selection, after, bulk.BATCH_SIZE, now_ms())
        )

    def cancel_all(
        self,
        workflow_name: str | None = None,
        status: str | Sequence[str] | None = None,
        *,
        since: Duration | None = None,
        dry_run: bool = False,
    ) -> int:
        """Cancel every execution matching the filters that has not ended (as `cancel`), in
        short batches; how many were canceled or asked to stop (`dry_run`: how many match)."""
        selection = bulk.selection(bulk.CANCEL, workflow_name, status, since)
        if dry_run:
            return self.store.count_executions(selection)
        return bulk.in_batches(
            lambda after: self.store.cancel_batch(selection, after, bulk.BATCH_SIZE, now_ms())
        )

    def prune(
        self,
        older_than: Duration,
        statuses: str | Sequence[str] | None = None,
        *,
        dry_run: bool = False,
    ) -> PruneReport:
        """Delete the final executions (SUCCESS and CANCELED unless `statuses` names others)
        that finished more than `older_than` ago (e.g. "30d"), with their job executions
        and waits, in short batches (with `dry_run`, only count them)."""
        selection = prune_selection(older_than, statuses)
        if dry_run:
            return PruneReport(self.store.count_executions(selection))
        return prune(self.store, selection)

    def cancel(self, execution_id: str) -> ExecutionStatus:
        """Cancel an execution: at once unless RUNNING, then at its next job boundary.

        Returns the status it has now (CANCELED, or RUNNING until it stops).
        """
        return self.store.request_cancel(execution_id, now_ms())

    # waiting
    def has_live_worker(self) -> bool:
        """Whether a `stackflow worker` (other than this engine's own) beat recently."""
        stale_ms = int(WORKER_STALE_SECONDS * 1000)
        count = self.store.live_worker_count(now_ms(), stale_ms)
        return count > (1 if self.heartbeat.worker_id else 0)

    def wait(
        self,
        execution_id: str,
        timeout: float | None = None,
        *,
        run_here: bool | None = None,
        on_progress: ProgressCallback | None = None,
        progress_interval_seconds: float = DEFAULT_PROGRESS_SECONDS,
        until: str | Sequence[str] | None = None,
    ) -> Execution:
        """Wait until the execution settles: SUCCESS, FAILED, CANCELED or WAITING on a wait point;
        with `until` (statuses, e.g. "RUNNING,WAITING"), also as soon as it is in one of them.

        Pending executions, retries and durable sleeps are waited through; the wait is
        woken by the execution's status changes. With no live worker (or `run_here=True`)
        the execution runs in this process. `on_progress` is called at least every
        `progress_interval_seconds` while waiting. On a timeout (WaitTimeout), an
        interrupt or a return before the execution settles (`until`), what this process
        claimed of the execution is released at once.
        """
        return Waiter(
            self,
            execution_id,
            timeout_seconds=timeout,
            run_here=run_here,
            on_progress=on_progress,
            progress_interval_seconds=progress_interval_seconds,
            until=parse_statuses(until),
        ).wait()

    # running (runner.py)
    def run_execution(self, execution_id: str) -> bool:
        """Claim this execution if it is runnable and run it here; False if it was not."""
        return self._runner.run_execution(execution_id)

    def claim_runnable(self, limit: int) -> list[Lease]:
        """Claim up to `limit` runnable executions of this engine's workflows (kept alive by
        the heartbeat until `run_claimed` or `release`)."""
        return self._runner.claim_runnable(limit)

    def run_claimed(self, lease: Lease) -> ExecutionStatus | None:
        """Run a claimed execution to its end; its final status (None if the lease was lost)."""
        return self._runner.run_claimed(lease)

    def release(self, lease: Lease) -> None:
        """Give a claimed execution back unfinished (PENDING_RESUME: any worker resumes it)."""
        self._runner.release(lease)

    def release_claims(self, execution_id: str) -> None:
        """Release whatever this process holds of an execution (a wait that gave up)."""
        self._runner.release_claims(execution_id)

    def run_pending(self, concurrency: int | None = None) -> int:
        """Run every runnable execution in this process until none is left; how many ran.

        With `concurrency` above 1, that many executions run at once on threads.
        """
        return self._runner.run_pending(concurrency)

    def check_replay(self, workflow_name: str | None = None) -> list[ReplayFinding]:
        """Replay every execution that may still run against the current code, writing
        nothing; those whose replay would hit non-determinism (see replay_check.py)."""
        install_capture()  # what the replayed bodies print goes to their (unsaved) logs
        # a store of its own: `self.store` would record this code's job versions in the
        # registry, as if it were deployed
        store = self._store or open_store(
            self.database_url, sqlite_synchronous=self.sqlite_synchronous
        )
        try:
            executions = store.list_executions(
                workflow_name=workflow_name, statuses=REPLAYED_STATUSES
            )
            return check_replay(self._runner.run_settings(store), self.workflows, executions)
        finally:
            if store is not self._store:
                store.close()

    # what a worker needs
    def register_worker(self, worker_id: str) -> None:
        """Announce this process as a live worker (kept live by the heartbeat)."""
        self.heartbeat.register_worker(worker_id)

    def unregister_worker(self) -> None:
        """Stop announcing this process as a worker."""
        self.heartbeat.unregister_worker()

    def next_wake_ms(self) -> int | None:
        """When the earliest sleeping or retrying execution of these workflows falls due."""
        return self.store.next_wake_ms(sorted(self.workflows))

    def fire_due_schedules(
        self, now: datetime | None = None, *, on_error: TickErrorLog | None = None
    ) -> list[str]:
        """Start the latest due tick of every schedule (once per tick across all workers).

        Returns the ids of the executions this call created; a tick that cannot start is
        recorded with its error (see `schedule_states`) and skipped.
        """
        return self._scheduler.fire_due(now or datetime.now(UTC), on_error)

    def next_schedule_tick(self, now: datetime | None = None) -> datetime | None:
        """When the next tick of any schedule is due."""
        return self._scheduler.next_tick(now or datetime.now(UTC))

    @property
    def lease_ms(self) -> int:
        """The lease length of this engine's claims, in milliseconds."""
        return int(self.lease_seconds * 1000)


_project_engines: dict[str, Engine] = {}
_project_lock = threading.Lock()


def project_engine() -> Engine:
    """The engine of the project found from here (or named by STACKFLOW_CONFIG)."""
    path = os.environ.get(CONFIG_PATH_VARIABLE)
    key = str(Path(path).resolve() if path else find_config())
    with _project_lock:
        engine = _project_engines.get(key)
        if engine is None:
            engine = Engine.from_config(key)
            _project_engines[key] = engine
        return engine


register_starter(project_engine)

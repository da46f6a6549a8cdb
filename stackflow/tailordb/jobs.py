"""Transactional jobs: the body and its result checkpoint commit in one transaction."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Protocol

from stackflow.jsonvalue import valid_text
from stackflow.records import JobStatus
from stackflow.tailordb.database import namespace_transaction
from stackflow.tailordb.errors import TransactionalJobError
from stackflow.tailordb.registry import Namespace
from stackflow.tailordb.runtime import project_tailordb

if TYPE_CHECKING:
    from stackflow.definitions.jobs import WorkflowJob
    from stackflow.logs import JobLog
    from stackflow.project.project import Project
    from stackflow.store.base import JobRow, Lease, Store


class TransactionalRun(Protocol):
    """What a transactional job needs from the engine's job run."""

    job: WorkflowJob
    row: JobRow
    log: JobLog
    result_recorded: bool

    @property
    def project(self) -> Project | None: ...

    @property
    def store(self) -> Store: ...

    @property
    def lease(self) -> Lease: ...

    def record_start_if_needed(self) -> None: ...


def job_namespace(job_run: TransactionalRun) -> Namespace:
    """The namespace a transactional job runs in; it must share the store's database."""
    wanted = job_run.job.transactional
    tailordb = project_tailordb(job_run.project)
    namespace = tailordb.namespace(wanted if isinstance(wanted, str) else None)
    if namespace.url != job_run.store.url:
        raise TransactionalJobError(
            f"job '{job_run.job.name}' is transactional but namespace '{namespace.name}' "
            f"lives in {namespace.url}, not in the store's database {job_run.store.url}"
        )
    return namespace


@contextmanager
def job_transaction(job_run: TransactionalRun) -> Iterator[None]:
    """Run the body inside; on success write its checkpoint in the same transaction.

    The job's start is recorded first, so nothing else needs the store while
    the transaction holds the database. If the body raises, the transaction
    rolls back and the engine records the failure as usual.
    """
    namespace = job_namespace(job_run)
    job_run.record_start_if_needed()
    with namespace_transaction(namespace) as conn:
        dbapi: Any = conn.connection.dbapi_connection
        # the claim is checked (and held: a takeover waits) inside the transaction, so the
        # body never runs under a claim another worker took since the start was recorded
        job_run.store.check_lease_txn(dbapi, job_run.lease)
        yield
        if job_run.row.status == JobStatus.SUCCESS:
            job_run.row.logs = valid_text(job_run.log.text())
            job_run.store.record_job_result_txn(
                dbapi, job_run.lease, job_run.row, started_recorded=True
            )
    job_run.result_recorded = job_run.row.status == JobStatus.SUCCESS

-- Version 3: an execution's argument, result and error live on its row, a job
-- execution's payloads on its own row; time-ordered ids order executions made in
-- the same millisecond and order executions by creation (the primary key serves
-- newest-first lists, also of one workflow, with no index per workflow to update);
-- partial indexes serve the claims; schedules keep the
-- error of their last failed tick; an execution started by a record trigger keeps
-- how many record triggers led to it (trigger_depth). A job execution's id is derived from its
-- execution's id and its number, not stored.
CREATE TABLE executions_v3 (
    id TEXT PRIMARY KEY,
    workflow_name TEXT NOT NULL,
    status TEXT NOT NULL,
    invoker TEXT,
    idempotency_key TEXT,
    created_at BIGINT NOT NULL,
    started_at BIGINT,
    finished_at BIGINT,
    updated_at BIGINT NOT NULL,
    lease_owner TEXT,
    lease_expires_at BIGINT,
    fence BIGINT NOT NULL DEFAULT 0,
    wake_at BIGINT,
    run_count BIGINT NOT NULL DEFAULT 0,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    retries INTEGER NOT NULL DEFAULT 0,
    restarted_from TEXT,
    trace_context TEXT,
    trigger_depth INTEGER NOT NULL DEFAULT 0,
    arg TEXT NOT NULL,
    result TEXT,
    error TEXT
);
INSERT INTO executions_v3 (id, workflow_name, status, invoker, idempotency_key, created_at,
    started_at, finished_at, updated_at, lease_owner, lease_expires_at, fence, wake_at,
    run_count, cancel_requested, retries, arg, result, error)
SELECT e.id, e.workflow_name, e.status, e.invoker, e.idempotency_key, e.created_at,
    e.started_at, e.finished_at, e.updated_at, e.lease_owner, e.lease_expires_at, e.fence,
    e.wake_at, e.run_count, e.cancel_requested, e.retries, p.arg, p.result, p.error
FROM executions e JOIN execution_payloads p ON p.execution_id = e.id
ORDER BY e.rowid;
DROP TABLE executions;
DROP TABLE execution_payloads;
ALTER TABLE executions_v3 RENAME TO executions;
CREATE UNIQUE INDEX executions_by_key ON executions (idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX executions_pending ON executions (id)
    WHERE status IN ('PENDING', 'PENDING_RESUME');
CREATE INDEX executions_due ON executions (wake_at) WHERE wake_at IS NOT NULL;
CREATE INDEX executions_leased ON executions (lease_expires_at) WHERE status = 'RUNNING';

CREATE TABLE job_executions_v3 (
    execution_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    call_path TEXT NOT NULL,
    job_name TEXT NOT NULL,
    stacked_job_name TEXT NOT NULL,
    status TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    version TEXT,
    started_at BIGINT NOT NULL,
    finished_at BIGINT,
    input TEXT NOT NULL,
    result TEXT,
    error TEXT,
    logs TEXT NOT NULL DEFAULT '',
    failure_cause TEXT,
    PRIMARY KEY (execution_id, seq)
);
INSERT INTO job_executions_v3
SELECT j.execution_id, j.seq, j.call_path, j.job_name, j.stacked_job_name, j.status,
    j.attempt, j.version, j.started_at, j.finished_at, p.input, p.result, p.error, p.logs,
    p.failure_cause
FROM job_executions j JOIN job_payloads p ON p.id = j.payload_id;
DROP TABLE job_executions;
DROP TABLE job_payloads;
ALTER TABLE job_executions_v3 RENAME TO job_executions;

ALTER TABLE schedules ADD COLUMN last_error TEXT;
ALTER TABLE schedules ADD COLUMN last_error_at BIGINT;

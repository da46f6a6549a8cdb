CREATE TABLE executions (
    id TEXT PRIMARY KEY,
    workflow_name TEXT NOT NULL,
    status TEXT NOT NULL,
    invoker TEXT,
    idempotency_key TEXT UNIQUE,
    created_at INTEGER NOT NULL,
    started_at INTEGER,
    finished_at INTEGER,
    updated_at INTEGER NOT NULL,
    lease_owner TEXT,
    lease_expires_at INTEGER,
    fence INTEGER NOT NULL DEFAULT 0,
    wake_at INTEGER,
    run_count INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX executions_by_status ON executions (status, created_at);
CREATE INDEX executions_by_workflow ON executions (workflow_name, created_at);
CREATE INDEX executions_by_created ON executions (created_at);

CREATE TABLE execution_payloads (
    execution_id TEXT PRIMARY KEY,
    arg TEXT NOT NULL,
    result TEXT,
    error TEXT
);

CREATE TABLE job_executions (
    execution_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    id TEXT NOT NULL,
    call_path TEXT NOT NULL,
    job_name TEXT NOT NULL,
    stacked_job_name TEXT NOT NULL,
    status TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    version TEXT,
    started_at INTEGER NOT NULL,
    finished_at INTEGER,
    payload_id INTEGER NOT NULL,
    PRIMARY KEY (execution_id, seq)
) WITHOUT ROWID;

CREATE TABLE job_payloads (
    id INTEGER PRIMARY KEY,
    input TEXT NOT NULL,
    result TEXT,
    error TEXT,
    logs TEXT NOT NULL DEFAULT '',
    failure_cause TEXT
);

CREATE TABLE workflows (
    name TEXT PRIMARY KEY,
    id TEXT NOT NULL,
    main_job TEXT NOT NULL,
    job_versions TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE workers (
    id TEXT PRIMARY KEY,
    info TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    heartbeat_at INTEGER NOT NULL
);

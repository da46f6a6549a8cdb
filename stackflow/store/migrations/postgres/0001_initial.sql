CREATE TABLE executions (
    id TEXT PRIMARY KEY,
    workflow_name TEXT NOT NULL,
    status TEXT NOT NULL,
    invoker TEXT,
    idempotency_key TEXT UNIQUE,
    created_at BIGINT NOT NULL,
    started_at BIGINT,
    finished_at BIGINT,
    updated_at BIGINT NOT NULL,
    lease_owner TEXT,
    lease_expires_at BIGINT,
    fence BIGINT NOT NULL DEFAULT 0,
    wake_at BIGINT,
    run_count BIGINT NOT NULL DEFAULT 0,
    -- insertion order, the tiebreaker SQLite gets from its implicit rowid
    insert_order BIGSERIAL NOT NULL
);
CREATE INDEX executions_by_status ON executions (status, created_at);
CREATE INDEX executions_by_workflow ON executions (workflow_name, created_at);
CREATE INDEX executions_by_created ON executions (created_at, insert_order);

CREATE TABLE execution_payloads (
    execution_id TEXT PRIMARY KEY,
    arg TEXT NOT NULL,
    result TEXT,
    error TEXT
);

CREATE TABLE job_executions (
    execution_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    id TEXT NOT NULL,
    call_path TEXT NOT NULL,
    job_name TEXT NOT NULL,
    stacked_job_name TEXT NOT NULL,
    status TEXT NOT NULL,
    attempt BIGINT NOT NULL,
    version TEXT,
    started_at BIGINT NOT NULL,
    finished_at BIGINT,
    payload_id BIGINT NOT NULL,
    PRIMARY KEY (execution_id, seq)
);

CREATE TABLE job_payloads (
    id BIGSERIAL PRIMARY KEY,
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
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE workers (
    id TEXT PRIMARY KEY,
    info TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    heartbeat_at BIGINT NOT NULL
);

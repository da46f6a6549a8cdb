ALTER TABLE executions ADD COLUMN cancel_requested INTEGER NOT NULL DEFAULT 0;
ALTER TABLE executions ADD COLUMN retries INTEGER NOT NULL DEFAULT 0;

CREATE TABLE waits (
    execution_id TEXT NOT NULL,
    call_path TEXT NOT NULL,
    kind TEXT NOT NULL,
    wait_key TEXT,
    payload TEXT,
    result TEXT,
    wake_at BIGINT,
    created_at BIGINT NOT NULL,
    resolved_at BIGINT,
    PRIMARY KEY (execution_id, call_path)
);

CREATE TABLE schedules (
    name TEXT PRIMARY KEY,
    created_at BIGINT NOT NULL,
    last_tick BIGINT
);

-- Version 3: an execution's argument, result and error live on its row, a job
-- execution's payloads on its own row; time-ordered ids order executions made in
-- the same millisecond and order executions by creation (the primary key serves
-- newest-first lists, also of one workflow, with no index per workflow to update);
-- partial indexes serve the claims; schedules keep the
-- error of their last failed tick; an execution started by a record trigger keeps
-- how many record triggers led to it (trigger_depth). A job execution's id is derived from its
-- execution's id and its number, not stored. Leases are timed by the server's clock, claims
-- take one round trip (stackflow_claim) and every status change is announced on
-- the channel stackflow_changes.
ALTER TABLE executions
    ADD COLUMN restarted_from TEXT,
    ADD COLUMN trace_context TEXT,
    ADD COLUMN trigger_depth INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN arg TEXT,
    ADD COLUMN result TEXT,
    ADD COLUMN error TEXT;
UPDATE executions e SET arg = p.arg, result = p.result, error = p.error
FROM execution_payloads p WHERE p.execution_id = e.id;
ALTER TABLE executions ALTER COLUMN arg SET NOT NULL;
DROP TABLE execution_payloads;
DROP INDEX executions_by_status;
DROP INDEX executions_by_workflow;
DROP INDEX executions_by_created;
ALTER TABLE executions DROP CONSTRAINT executions_idempotency_key_key;
ALTER TABLE executions DROP COLUMN insert_order;
CREATE UNIQUE INDEX executions_by_key ON executions (idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX executions_pending ON executions (id)
    WHERE status IN ('PENDING', 'PENDING_RESUME');
CREATE INDEX executions_due ON executions (wake_at) WHERE wake_at IS NOT NULL;
CREATE INDEX executions_leased ON executions (lease_expires_at) WHERE status = 'RUNNING';

ALTER TABLE job_executions
    ADD COLUMN input TEXT,
    ADD COLUMN result TEXT,
    ADD COLUMN error TEXT,
    ADD COLUMN logs TEXT NOT NULL DEFAULT '',
    ADD COLUMN failure_cause TEXT;
UPDATE job_executions j SET input = p.input, result = p.result, error = p.error,
    logs = p.logs, failure_cause = p.failure_cause
FROM job_payloads p WHERE p.id = j.payload_id;
ALTER TABLE job_executions ALTER COLUMN input SET NOT NULL;
ALTER TABLE job_executions DROP COLUMN payload_id;
ALTER TABLE job_executions DROP COLUMN id;
-- ids are UUIDs: 16 bytes each in rows and indexes, not 37
ALTER TABLE executions ALTER COLUMN id TYPE UUID USING id::UUID;
ALTER TABLE job_executions ALTER COLUMN execution_id TYPE UUID USING execution_id::UUID;
ALTER TABLE waits ALTER COLUMN execution_id TYPE UUID USING execution_id::UUID;
DROP TABLE job_payloads;
ALTER TABLE job_executions ALTER COLUMN attempt TYPE INTEGER;

ALTER TABLE schedules ADD COLUMN last_error TEXT, ADD COLUMN last_error_at BIGINT;

CREATE FUNCTION stackflow_now_ms() RETURNS BIGINT LANGUAGE sql VOLATILE AS
$$ SELECT (extract(epoch FROM clock_timestamp()) * 1000)::BIGINT $$;

CREATE FUNCTION stackflow_announce() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('stackflow_changes', NEW.status || ' ' || NEW.id::TEXT || ' ' || NEW.workflow_name);
    RETURN NULL;
END $$;
CREATE TRIGGER executions_created AFTER INSERT ON executions
    FOR EACH ROW EXECUTE FUNCTION stackflow_announce();
CREATE TRIGGER executions_changed AFTER UPDATE OF status ON executions
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION stackflow_announce();

-- Claim runnable executions in one call, oldest first: under the caps (p_max_running in
-- all, p_caps per workflow as {"name": cap}) one claimer at a time counts the running
-- executions, holding the lock only for this call. Candidates are read without locks;
-- only the chosen rows are locked (SKIP LOCKED: one a stale writer holds is left).
-- A claim commits without waiting for the disk: it records no outcome, and one lost in
-- a server crash is claimed again, as if its worker had died (any later durable commit
-- flushes it anyway, the WAL being written in order). A claim returns what the run
-- needs, with the stored trace context, whether it took the execution over from an owner
-- whose lease had expired, and when the execution became runnable.
CREATE FUNCTION stackflow_claim(
    p_owner TEXT, p_lease_ms BIGINT, p_now BIGINT, p_limit INTEGER, p_names TEXT[],
    p_id UUID, p_max_running INTEGER, p_caps JSONB
) RETURNS TABLE (
    id UUID, workflow_name TEXT, fence BIGINT, arg TEXT, invoker TEXT, retries INTEGER,
    run_count BIGINT, cancel_requested INTEGER, created_at BIGINT, trace_context TEXT,
    taken_over BOOLEAN, runnable_since BIGINT
) LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    server_now BIGINT;
    chosen UUID[];
BEGIN
    IF p_max_running IS NOT NULL OR p_caps <> '{}'::JSONB THEN
        PERFORM pg_advisory_xact_lock(8319678123456346989);
    END IF;
    server_now := stackflow_now_ms();
    PERFORM set_config('synchronous_commit', 'off', true);
    WITH candidates AS (
        SELECT c.id, c.workflow_name FROM executions c
        WHERE (c.status IN ('PENDING', 'PENDING_RESUME')
               OR (c.status = 'RUNNING' AND c.lease_expires_at < server_now)
               OR (c.status IN ('PENDING_RETRY', 'WAITING') AND c.wake_at IS NOT NULL
                   AND c.wake_at <= server_now))
          AND (p_id IS NULL OR c.id = p_id)
          AND (p_names IS NULL OR c.workflow_name = ANY(p_names))
        ORDER BY c.id
        LIMIT p_limit + 50
    ), running AS (
        SELECT r.workflow_name, count(*) AS n FROM executions r
        WHERE r.status = 'RUNNING' AND r.lease_expires_at >= server_now
        GROUP BY r.workflow_name
    ), ranked AS (
        SELECT c.id, c.workflow_name,
            COALESCE(r.n, 0) + row_number() OVER (
                PARTITION BY c.workflow_name ORDER BY c.id) AS nth_running
        FROM candidates c LEFT JOIN running r ON r.workflow_name = c.workflow_name
    ), allowed AS (
        SELECT a.id, row_number() OVER (ORDER BY a.id) AS nth
        FROM ranked a
        WHERE (p_caps ->> a.workflow_name) IS NULL
           OR a.nth_running <= (p_caps ->> a.workflow_name)::BIGINT
    )
    SELECT array_agg(a.id) INTO chosen FROM allowed a
    WHERE a.nth <= p_limit
      AND (p_max_running IS NULL
           OR a.nth + (SELECT COALESCE(sum(r.n), 0) FROM running r) <= p_max_running);
    RETURN QUERY
    UPDATE executions e SET status = 'RUNNING', lease_owner = p_owner,
        lease_expires_at = server_now + p_lease_ms, fence = e.fence + 1,
        started_at = COALESCE(e.started_at, p_now), run_count = e.run_count + 1,
        wake_at = NULL, updated_at = p_now
    FROM (
        SELECT l.id, l.status = 'RUNNING' AS was_running,
            CASE WHEN l.status = 'RUNNING' THEN l.lease_expires_at
                 WHEN l.status IN ('PENDING_RETRY', 'WAITING') THEN l.wake_at
                 ELSE l.updated_at END AS since
        FROM executions l
        WHERE l.id = ANY(chosen)
          AND (l.status IN ('PENDING', 'PENDING_RESUME')
               OR (l.status = 'RUNNING' AND l.lease_expires_at < server_now)
               OR (l.status IN ('PENDING_RETRY', 'WAITING') AND l.wake_at IS NOT NULL
                   AND l.wake_at <= server_now))
        FOR UPDATE SKIP LOCKED) locked
    WHERE e.id = locked.id
    RETURNING e.id, e.workflow_name, e.fence, e.arg, e.invoker, e.retries, e.run_count,
        e.cancel_requested, e.created_at, e.trace_context, locked.was_running, locked.since;
END $$;

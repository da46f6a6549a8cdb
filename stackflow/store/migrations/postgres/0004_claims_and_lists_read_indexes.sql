-- Version 4: a claim reads only runnable executions. Version 3's claim filtered the
-- whole executions table in id order (one OR over three kinds of runnable execution),
-- so its cost grew with the store's history: about 50 ms a claim with 100,000 finished
-- executions. It now reads each kind from its partial index and merges them.
-- A list of the executions in a status other than SUCCESS reads that status's partial
-- index instead of walking every execution newest first (PENDING and PENDING_RESUME:
-- executions_pending; RUNNING: executions_leased; the others below). Rows enter these
-- indexes only while in their status, so an execution that succeeds at once writes to
-- none of them.
CREATE INDEX executions_retrying ON executions (id) WHERE status = 'PENDING_RETRY';
CREATE INDEX executions_waiting ON executions (id) WHERE status = 'WAITING';
CREATE INDEX executions_failed ON executions (id) WHERE status = 'FAILED';
CREATE INDEX executions_canceled ON executions (id) WHERE status = 'CANCELED';
CREATE OR REPLACE FUNCTION stackflow_claim(
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
        -- one branch per partial index, each in its index's order, so that a claim reads
        -- the runnable executions, not the store's history (ordered by id, the expired
        -- and due branches would walk the primary key); one-time filters on p_id pick
        -- the branches
        SELECT u.id, u.workflow_name FROM (
            (SELECT c.id, c.workflow_name FROM executions c
             WHERE p_id IS NOT NULL AND c.id = p_id
               AND (c.status IN ('PENDING', 'PENDING_RESUME')
                    OR (c.status = 'RUNNING' AND c.lease_expires_at < server_now)
                    OR (c.status IN ('PENDING_RETRY', 'WAITING') AND c.wake_at IS NOT NULL
                        AND c.wake_at <= server_now))
               AND (p_names IS NULL OR c.workflow_name = ANY(p_names)))
            UNION ALL
            (SELECT c.id, c.workflow_name FROM executions c
             WHERE p_id IS NULL AND c.status IN ('PENDING', 'PENDING_RESUME')
               AND (p_names IS NULL OR c.workflow_name = ANY(p_names))
             ORDER BY c.id LIMIT p_limit + 50)
            UNION ALL
            (SELECT c.id, c.workflow_name FROM executions c
             WHERE p_id IS NULL AND c.status = 'RUNNING' AND c.lease_expires_at < server_now
               AND (p_names IS NULL OR c.workflow_name = ANY(p_names))
             ORDER BY c.lease_expires_at LIMIT p_limit + 50)
            UNION ALL
            (SELECT c.id, c.workflow_name FROM executions c
             WHERE p_id IS NULL AND c.status IN ('PENDING_RETRY', 'WAITING')
               AND c.wake_at IS NOT NULL AND c.wake_at <= server_now
               AND (p_names IS NULL OR c.workflow_name = ANY(p_names))
             ORDER BY c.wake_at LIMIT p_limit + 50)
        ) u
        ORDER BY u.id
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

"""The PostgreSQL store's statements, by name; each lease-taking write fences in-statement."""

from __future__ import annotations

WORK_CHANNEL = "stackflow_work"
"""LISTEN/NOTIFY channel: new, resumable or released executions."""

MIGRATION_LOCK_KEY = 0x737461636B666C6F  # "stackflo": serialises concurrent migrations
CLAIM_LOCK_KEY = 0x737461636B636C6D  # "stackclm": serialises claims that count against caps

STORE_TABLES = (
    "executions",
    "execution_payloads",
    "job_executions",
    "job_payloads",
    "workflows",
    "workers",
    "waits",
    "schedules",
)

RUNNABLE = (
    "(status IN ('PENDING', 'PENDING_RESUME')"
    " OR (status = 'RUNNING' AND lease_expires_at < %(now)s)"
    " OR (status IN ('PENDING_RETRY', 'WAITING') AND wake_at IS NOT NULL AND wake_at <= %(now)s))"
)

# An execution row locked FOR SHARE while its fence is unchanged: a claim (which
# bumps the fence) waits for the writing transaction, and the write sees a claim
# that committed first. This is what BEGIN IMMEDIATE gives the SQLite store.
OWNED = (
    "owned AS (SELECT 1 FROM executions WHERE id = %(execution_id)s AND fence = %(fence)s "
    "FOR SHARE)"
)

CLAIM_RETURNING = (
    "RETURNING e.id, e.workflow_name, e.fence, e.invoker, p.arg, e.retries, "
    "e.created_at, e.insert_order"
)

CLAIM_SET = (
    "UPDATE executions e SET status = 'RUNNING', lease_owner = %(owner)s, "
    "lease_expires_at = %(expires)s, fence = e.fence + 1, "
    "started_at = COALESCE(e.started_at, %(now)s), run_count = e.run_count + 1, "
    "wake_at = NULL, updated_at = %(now)s "
)

CLAIM_RUNNABLE = (
    "WITH claimable AS (SELECT id FROM executions "
    f"WHERE {RUNNABLE} AND workflow_name = ANY(%(names)s) "
    "ORDER BY created_at, insert_order LIMIT %(limit)s FOR UPDATE SKIP LOCKED) "
    + CLAIM_SET
    + "FROM claimable c, execution_payloads p WHERE e.id = c.id AND p.execution_id = e.id "
    + CLAIM_RETURNING
)

CLAIM_ONE = (
    "WITH claimable AS (SELECT id FROM executions "
    f"WHERE id = %(id)s AND {RUNNABLE} FOR UPDATE SKIP LOCKED) "
    + CLAIM_SET
    + "FROM claimable c, execution_payloads p WHERE e.id = c.id AND p.execution_id = e.id "
    + CLAIM_RETURNING
)

# Claims under caps: candidates are locked, the caps applied in Python (store/rules.py),
# then the chosen ones claimed, all in one transaction holding CLAIM_LOCK_KEY.
CLAIM_CANDIDATES = (
    f"SELECT id, workflow_name FROM executions WHERE {RUNNABLE} "
    "AND (%(id)s::text IS NULL OR id = %(id)s) "
    "AND (%(names)s::text[] IS NULL OR workflow_name = ANY(%(names)s)) "
    "ORDER BY created_at, insert_order LIMIT %(limit)s FOR UPDATE SKIP LOCKED"
)

RUNNING_COUNTS = (
    "SELECT workflow_name, count(*) FROM executions WHERE status = 'RUNNING' "
    "AND lease_expires_at >= %(now)s GROUP BY workflow_name"
)

CLAIM_CHOSEN = (
    CLAIM_SET
    + "FROM execution_payloads p WHERE e.id = ANY(%(ids)s) AND p.execution_id = e.id "
    + CLAIM_RETURNING
)

RENEW_LEASES = (
    "WITH mine AS (SELECT id FROM executions WHERE id = ANY(%(ids)s) "
    "AND lease_owner = %(owner)s AND status = 'RUNNING' ORDER BY id FOR UPDATE) "
    "UPDATE executions e SET lease_expires_at = %(expires)s FROM mine WHERE e.id = mine.id"
)

CREATE_EXECUTION = (
    "WITH e AS (INSERT INTO executions (id, workflow_name, status, invoker, idempotency_key, "
    "created_at, updated_at) VALUES (%(id)s, %(workflow_name)s, 'PENDING', %(invoker)s, "
    "%(key)s, %(now)s, %(now)s) ON CONFLICT DO NOTHING RETURNING id, workflow_name), "
    "p AS (INSERT INTO execution_payloads (execution_id, arg) SELECT id, %(arg)s FROM e) "
    f"SELECT id, pg_notify('{WORK_CHANNEL}', workflow_name) FROM e"
)

FIND_EXISTING_EXECUTION = "SELECT id FROM executions WHERE id = %(id)s OR idempotency_key = %(key)s"

RELEASE_EXECUTION = (
    "WITH r AS (UPDATE executions SET status = 'PENDING_RESUME', lease_owner = NULL, "
    "lease_expires_at = NULL, updated_at = %(now)s WHERE id = %(execution_id)s "
    "AND fence = %(fence)s AND status = 'RUNNING' RETURNING workflow_name) "
    f"SELECT pg_notify('{WORK_CHANNEL}', workflow_name) FROM r"
)

MARK_RESUMABLE = (
    "WITH r AS (UPDATE executions SET status = 'PENDING_RESUME', finished_at = NULL, "
    "wake_at = NULL, retries = 0, updated_at = %(now)s WHERE id = %(id)s "
    "AND status IN ('FAILED', 'PENDING_RESUME', 'PENDING_RETRY') RETURNING workflow_name) "
    f"SELECT pg_notify('{WORK_CHANNEL}', workflow_name) FROM r"
)

FINISH_EXECUTION = (
    "WITH x AS (UPDATE executions SET status = %(status)s, finished_at = %(finished_at)s, "
    "updated_at = %(now)s, wake_at = %(wake_at)s, retries = retries + %(retried)s, "
    "lease_owner = NULL, lease_expires_at = NULL "
    "WHERE id = %(execution_id)s AND fence = %(fence)s RETURNING id), "
    "p AS (UPDATE execution_payloads SET result = %(result)s, error = %(error)s "
    "WHERE execution_id IN (SELECT id FROM x)) "
    "SELECT count(*) FROM x"
)

INSERT_JOB = (
    f"WITH {OWNED}, job AS ("
    "INSERT INTO job_executions (execution_id, seq, id, call_path, job_name, stacked_job_name, "
    "status, attempt, version, started_at, finished_at, payload_id) "
    "SELECT %(execution_id)s, %(seq)s, %(id)s, %(call_path)s, %(job_name)s, "
    "%(stacked_job_name)s, %(status)s, %(attempt)s, %(version)s, %(started_at)s, "
    "%(finished_at)s, nextval('job_payloads_id_seq') FROM owned "
    "ON CONFLICT (execution_id, seq) DO NOTHING RETURNING payload_id) "
    "INSERT INTO job_payloads (id, input, result, error, logs, failure_cause) "
    "SELECT payload_id, %(input)s, %(result)s, %(error)s, %(logs)s, %(failure_cause)s FROM job "
    "RETURNING id"
)

UPDATE_JOB = (
    f"WITH {OWNED}, job AS ("
    "UPDATE job_executions SET status = %(status)s, finished_at = %(finished_at)s "
    "WHERE execution_id = %(execution_id)s AND seq = %(seq)s AND EXISTS (SELECT 1 FROM owned) "
    "RETURNING payload_id) "
    "UPDATE job_payloads SET result = %(result)s, error = %(error)s, logs = %(logs)s, "
    "failure_cause = %(failure_cause)s WHERE id IN (SELECT payload_id FROM job) RETURNING id"
)

# After a write that changed nothing: was the lease lost, or is the job row already
# there (an earlier attempt whose commit was not acknowledged before a disconnect)?
WRITE_OUTCOME = (
    "SELECT (SELECT fence FROM executions WHERE id = %(execution_id)s), "
    "(SELECT payload_id FROM job_executions WHERE execution_id = %(execution_id)s "
    "AND seq = %(seq)s AND id = %(id)s)"
)

ABANDON_UNFINISHED_JOBS = (
    f"WITH {OWNED}, job AS ("
    "UPDATE job_executions SET status = 'FAILED', finished_at = %(now)s "
    "WHERE execution_id = %(execution_id)s AND status IN ('RUNNING', 'SUSPEND') "
    "AND EXISTS (SELECT 1 FROM owned) RETURNING payload_id), "
    "p AS (UPDATE job_payloads SET error = %(error)s WHERE id IN (SELECT payload_id FROM job)) "
    "SELECT (SELECT count(*) FROM owned), (SELECT count(*) FROM job)"
)

SYNC_WORKFLOW = (
    "INSERT INTO workflows (name, id, main_job, job_versions, created_at, updated_at) "
    "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (name) DO UPDATE SET "
    "main_job = excluded.main_job, job_versions = excluded.job_versions, "
    "updated_at = excluded.updated_at "
    "WHERE (workflows.main_job, workflows.job_versions) "
    "IS DISTINCT FROM (excluded.main_job, excluded.job_versions)"
)

REGISTER_WORKER = (
    "INSERT INTO workers (id, info, started_at, heartbeat_at) VALUES (%s, %s, %s, %s) "
    "ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at"
)

RECORD_WAIT = (
    f"WITH {OWNED}, w AS (INSERT INTO waits (execution_id, call_path, kind, wait_key, payload, "
    "result, wake_at, created_at, resolved_at) "
    "SELECT %(execution_id)s, %(call_path)s, %(kind)s, %(key)s, %(payload)s, %(result)s, "
    "%(wake_at)s, %(created_at)s, %(resolved_at)s FROM owned "
    "ON CONFLICT (execution_id, call_path) DO NOTHING) "
    "SELECT count(*) FROM owned"
)

PARK_EXECUTION = (
    "UPDATE executions SET status = 'WAITING', wake_at = %(wake_at)s, updated_at = %(now)s, "
    "lease_owner = NULL, lease_expires_at = NULL "
    "WHERE id = %(execution_id)s AND fence = %(fence)s"
)

RESOLVE_WAIT = (
    "WITH w AS (UPDATE waits SET result = %(result)s, resolved_at = %(now)s "
    "WHERE execution_id = %(id)s AND kind = 'wait_point' AND wait_key = %(key)s "
    "AND resolved_at IS NULL), "
    "r AS (UPDATE executions SET status = 'PENDING_RESUME', wake_at = NULL, updated_at = %(now)s "
    "WHERE id = %(id)s AND status = 'WAITING' RETURNING workflow_name) "
    f"SELECT pg_notify('{WORK_CHANNEL}', workflow_name) FROM r"
)

CANCEL_AT_ONCE = (
    "UPDATE executions SET status = 'CANCELED', finished_at = %(now)s, updated_at = %(now)s, "
    "wake_at = NULL, lease_owner = NULL, lease_expires_at = NULL WHERE id = %(id)s"
)

CANCEL_LATER = "UPDATE executions SET cancel_requested = 1, updated_at = %(now)s WHERE id = %(id)s"

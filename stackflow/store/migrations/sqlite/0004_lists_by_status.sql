-- Version 4: a list of the executions in a status other than SUCCESS reads that
-- status's partial index (PENDING and PENDING_RESUME: executions_pending; RUNNING:
-- executions_leased) instead of walking every execution newest first: `execution list
-- -s FAILED`, the dashboard's filters and its live view's resync stay fast on a store of
-- millions. Rows enter these indexes only while in their status, so an execution that
-- succeeds at once writes to none of them.
CREATE INDEX executions_retrying ON executions (id) WHERE status = 'PENDING_RETRY';
CREATE INDEX executions_waiting ON executions (id) WHERE status = 'WAITING';
CREATE INDEX executions_failed ON executions (id) WHERE status = 'FAILED';
CREATE INDEX executions_canceled ON executions (id) WHERE status = 'CANCELED';

"""The claim log: the store itself records when each claim of an execution was taken.

A trigger on `executions` appends `(execution, fence, claimed ms)` to `soak_claims` in the
claiming transaction, so the time of every claim comes from the database, not from the
worker that took it (a worker may be killed before it logs anything). The soak's
`oneClaimAtATime` check compares each job body's start with the claims that followed its
own. The time is the database's clock at the claiming statement, a moment before the
claim commits; the soak's processes all run on one machine, so they share that clock.
"""

from __future__ import annotations

import contextlib
import sqlite3

from benchmarks.soak.backends import read_rows

SQLITE_TRIGGER = """
CREATE TABLE IF NOT EXISTS soak_claims (execution TEXT, fence INTEGER, claimed_ms INTEGER);
CREATE TRIGGER IF NOT EXISTS soak_claim AFTER UPDATE OF fence ON executions
WHEN NEW.fence > OLD.fence
BEGIN
    INSERT INTO soak_claims VALUES (
        NEW.id, NEW.fence, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)
    );
END;
"""

POSTGRES_TRIGGER = """
CREATE TABLE IF NOT EXISTS soak_claims (execution TEXT, fence BIGINT, claimed_ms BIGINT);
CREATE OR REPLACE FUNCTION soak_claim() RETURNS trigger AS $$
BEGIN
    IF NEW.fence > OLD.fence THEN
        INSERT INTO soak_claims VALUES (
            NEW.id::text, NEW.fence,
            (extract(epoch FROM clock_timestamp()) * 1000)::bigint
        );
    END IF;
    RETURN NEW;
END $$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS soak_claim ON executions;
CREATE TRIGGER soak_claim AFTER UPDATE OF fence ON executions
FOR EACH ROW EXECUTE FUNCTION soak_claim();
"""

Claims = dict[tuple[str, int], int]
"""(execution, fence) -> the ms at which that claim was taken."""


def install(url: str) -> None:
    """Start logging claims in the (migrated) store at `url`."""
    if url.startswith("sqlite:///"):
        with contextlib.closing(sqlite3.connect(url[len("sqlite:///") :])) as conn:
            conn.executescript(SQLITE_TRIGGER)
        return
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(POSTGRES_TRIGGER)


def read(url: str) -> Claims:
    """Every claim logged since `install`."""
    rows = read_rows(url, "SELECT execution, fence, claimed_ms FROM soak_claims")
    return {(str(execution), int(fence)): int(ms) for execution, fence, ms in rows}

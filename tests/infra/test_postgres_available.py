"""The test PostgreSQL server really runs, and each test gets its own database."""

import psycopg
import pytest

pytestmark = pytest.mark.postgres


def test_postgres_answers_in_a_fresh_database(postgres_url: str) -> None:
    with psycopg.connect(postgres_url) as conn:
        assert conn.execute("select 1").fetchone() == (1,)
        row = conn.execute("select current_database()").fetchone()
        assert row is not None
        assert row[0].startswith("test_")
        tables = conn.execute(
            "select count(*) from information_schema.tables where table_schema = 'public'"
        ).fetchone()
        assert tables == (0,)

"""Shared fixtures: store URLs for both backends and a fresh PostgreSQL database per test."""

from __future__ import annotations

import os
import secrets
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

POSTGRES_URL_ENV = "STACKFLOW_TEST_POSTGRES_URL"
POSTGRES_SKIP_REASON = (
    "PostgreSQL not available: set STACKFLOW_TEST_POSTGRES_URL or run scripts/test"
)
POSTGRES_CI_MESSAGE = (
    "CI=true but STACKFLOW_TEST_POSTGRES_URL is not set: PostgreSQL tests must run in CI "
    "(run the suite with scripts/test, which starts a PostgreSQL server)"
)


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("true", "1")


def _server_url() -> str | None:
    return os.environ.get(POSTGRES_URL_ENV) or None


def _with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}"))


def pytest_sessionstart(session: pytest.Session) -> None:
    """In CI a missing PostgreSQL is a failure of the whole run, never a skip."""
    if _in_ci() and _server_url() is None:
        pytest.exit(POSTGRES_CI_MESSAGE, returncode=1)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """URL of a fresh, empty database on the test server, dropped after the test."""
    server_url = _server_url()
    if server_url is None:
        if _in_ci():
            pytest.fail(POSTGRES_CI_MESSAGE)
        pytest.skip(POSTGRES_SKIP_REASON)
    import psycopg
    from psycopg import sql

    database = f"test_{secrets.token_hex(6)}"
    name = sql.Identifier(database)
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(name))
    try:
        yield _with_database(server_url, database)
    finally:
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """URL of a new SQLite store file in the test's own temp dir."""
    return f"sqlite:///{(tmp_path / 'state.db').as_posix()}"


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def store_url(request: pytest.FixtureRequest) -> str:
    """A fresh store URL; every test using it runs once on SQLite and once on PostgreSQL."""
    url: str = request.getfixturevalue(f"{request.param}_url")
    return url


@pytest.fixture
def make_read_only() -> Iterator[Callable[[Path], None]]:
    """Make a directory and its files read-only for this process, undone after the test.

    Root ignores permission bits, so as root the files are marked immutable instead.
    """
    undo: list[Callable[[], None]] = []

    def apply(directory: Path) -> None:
        paths = [*directory.iterdir(), directory]
        if os.geteuid() == 0:
            names = [str(path) for path in paths]
            done = subprocess.run(["chattr", "+i", *names], capture_output=True, text=True)
            if done.returncode != 0:
                pytest.skip(f"cannot make files read-only for root here: {done.stderr.strip()}")
            undo.append(lambda: subprocess.run(["chattr", "-i", *names], check=True))
            return
        for path in paths:
            path.chmod(0o555 if path.is_dir() else 0o444)
        undo.append(lambda: [path.chmod(0o755 if path.is_dir() else 0o644) for path in paths])

    yield apply
    for step in reversed(undo):
        step()

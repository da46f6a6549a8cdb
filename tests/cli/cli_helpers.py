"""Helpers for running the real `stackflow` command in a project of its own."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

from commands import Result, command_env
from json_shapes import EXECUTION_KEYS, JOB_KEYS  # noqa: F401  (re-exported for the CLI tests)

from stackflow.cli.init import template_files
from stackflow.config import load_config
from stackflow.errors import ConfigError
from stackflow.store import open_store
from stackflow.store.sqlite import sqlite_path

ORDER = '{"orderId": "o1", "customerId": "c1"}'


def popen_stackflow(cwd: Path, *args: str) -> subprocess.Popen[str]:
    """Start `python -m stackflow ARGS` in the background (stderr piped)."""
    return subprocess.Popen(
        [sys.executable, "-m", "stackflow", *args],
        cwd=cwd,
        env=command_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def write_template(root: Path) -> Path:
    """The files `stackflow init` writes, written here directly (fast)."""
    for relative, text in template_files().items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def execution_count(root: Path) -> int:
    """Executions in the project's store (0 with no store yet, -1 when it is no store)."""
    try:
        url = load_config(root / "stackflow.toml").database_url
    except ConfigError:  # a test broke the config on purpose: its store is the default file
        url = f"sqlite:///{root / '.stackflow' / 'state.db'}"
    if not url.startswith("sqlite:"):
        store = open_store(url)
        try:
            return len(store.list_executions())
        finally:
            store.close()
    path = Path(sqlite_path(url))
    if not path.exists():
        return 0
    try:
        with closing(sqlite3.connect(path)) as conn:
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
            if "executions" not in tables:
                return 0
            return int(conn.execute("SELECT count(*) FROM executions").fetchone()[0])
    except sqlite3.DatabaseError:
        return -1


def use_database(root: Path, url: str) -> None:
    """Point the project's stackflow.toml at `url` (PostgreSQL runs of the CLI tests)."""
    config = root / "stackflow.toml"
    lines = [line for line in config.read_text().splitlines() if not line.startswith("database")]
    config.write_text("\n".join([f'database = "{url}"', *lines]) + "\n")


Run = Callable[..., Result]

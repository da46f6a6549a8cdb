"""A description of the machine and the versions measured, for the table's header."""

from __future__ import annotations

import datetime
import os
import platform
import sqlite3
from importlib import metadata
from pathlib import Path

from benchmarks import checkouts


def _cpu_model() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or "unknown"
    for line in text.splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown"


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def load_average() -> float:
    """The 1-minute load average (0.0 where the system does not report it)."""
    try:
        return os.getloadavg()[0]
    except OSError:
        return 0.0


def describe(
    load_at_start: float,
    postgres: dict[str, str] | None = None,
    baseline: checkouts.Baseline | None = None,
) -> dict[str, str]:
    """Date, CPU, load, the versions of Python, SQLite, dbos and stackflow, the PostgreSQL
    server's version and durability settings (as read back with SHOW) and the baseline commit."""
    now = datetime.datetime.now(datetime.UTC)
    found = {
        "date": now.strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": str(os.cpu_count()),
        "cpu": _cpu_model(),
        "load": f"{load_at_start:.2f} → {load_average():.2f}",
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "dbos": _version("dbos"),
        "stackflow": f"{_version('stackflow')} ({checkouts.describe_tree()})",
    }
    for name, value in (postgres or {}).items():
        found[f"postgres_{name}"] = value
    if baseline is not None:
        found["baseline"] = f"stackflow@{baseline.label} ({baseline.commit})"
    return found

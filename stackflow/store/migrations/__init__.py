"""Versioned schema migrations, one folder per backend, applied in file-name order."""

from __future__ import annotations

from importlib import resources


def migration_scripts(backend: str) -> list[tuple[int, str]]:
    """(version, SQL text) of every migration of `backend`, oldest first."""
    folder = resources.files(__package__).joinpath(backend)
    scripts = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            version = int(entry.name.split("_", 1)[0])
            scripts.append((version, entry.read_text(encoding="utf-8")))
    return sorted(scripts)


def latest_version(backend: str) -> int:
    """The schema version this stackflow writes."""
    return migration_scripts(backend)[-1][0]

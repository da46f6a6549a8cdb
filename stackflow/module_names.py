"""Project files as Python modules: the dotted name of a file under the project root."""

from __future__ import annotations

from pathlib import Path

from stackflow.errors import ProjectLoadError


def module_name(path: Path, root: Path) -> str:
    """The dotted module name of a file under the project root (`workflows.jobs.x`)."""
    relative = path.resolve().relative_to(root.resolve())
    parts = list(relative.with_suffix("").parts)
    if parts and parts[-1] == "__init__":
        parts.pop()
    if not parts or any(not part or "." in part for part in parts):
        raise ProjectLoadError(
            f"{relative.as_posix()}: cannot import: its path is not a Python module name"
        )
    return ".".join(parts)

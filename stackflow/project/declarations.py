"""What the rules say of a declared trigger, webhook or schedule: where, and its machine user."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from stackflow.project.rules import Location, display_path

DefinedAt = tuple[str, int] | None
"""The file and line of a `create_...` call, when known."""


def declared_location(defined_at: DefinedAt, root: Path) -> Location:
    """The file (relative to the project root) and line of a declaration, if known."""
    if defined_at is None:
        return None, None
    return display_path(defined_at[0], root), defined_at[1]


def declared_place(defined_at: DefinedAt, root: Path) -> str:
    """`file:line` of a declaration, for messages that name several."""
    file, line = declared_location(defined_at, root)
    return f"{file or '<unknown file>'}{f':{line}' if line else ''}"


def machine_user_problem(
    what: str, user: str | None, machine_users: Mapping[str, object], *, required: bool
) -> str | None:
    """Why `what` (e.g. "webhook 'x'") cannot start executions as `user`, or None.

    With `required`, a project that configures machine users needs one named.
    """
    known = ", ".join(sorted(machine_users)) or "none are configured"
    if user is None:
        if not required or not machine_users:
            return None
        return f"{what} needs machine_user=...: the project configures machine users ({known})"
    if user in machine_users:
        return None
    return (
        f"{what}: unknown machine user {user!r}. Known machine users: {known} "
        "(declare one under [machine_users.<name>] in stackflow.toml)"
    )

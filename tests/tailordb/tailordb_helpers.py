"""Helpers of the TailorDB tests: a project on disk with declared types and workflows."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

CUSTOMER_TYPES = textwrap.dedent(
    """
    from stackflow.tailordb import db

    customer = db.type(
        "Customer",
        {
            "name": db.string(),
            "email": db.string().unique(),
            "credit": db.int().optional(),
            "score": db.float().optional(),
            "active": db.bool().default(True),
            "tier": db.enum("FREE", "PRO").default("FREE"),
            "joinedOn": db.date().optional(),
            "lastSeen": db.datetime().optional(),
            "externalId": db.uuid().optional(),
            "profile": db.json().optional(),
        },
        description="A customer of the shop",
    )
    """
)

MakeProject = Callable[..., Path]


def write_project(
    root: Path,
    database_url: str,
    types: str = CUSTOMER_TYPES,
    *,
    extra_toml: str = "",
    workflows: dict[str, str] | None = None,
) -> Path:
    """A project under `root` with one TailorDB namespace `tailordb`; its stackflow.toml."""
    (root / "tailordb").mkdir(parents=True, exist_ok=True)
    (root / "tailordb" / "types.py").write_text(types)
    (root / "workflows").mkdir(exist_ok=True)
    for name, text in (workflows or {"empty.py": ""}).items():
        (root / "workflows" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "workflows" / name).write_text(textwrap.dedent(text))
    config = root / "stackflow.toml"
    config.write_text(
        f'name = "tailordb-test"\ndatabase = "{database_url}"\n'
        '[workflow]\nfiles = ["workflows/**/*.py"]\n'
        '[db.tailordb]\nfiles = ["tailordb/*.py"]\n'
        '[machine_users.admin]\nattributes = { role = "ADMIN" }\n'
        '[machine_users.viewer]\nattributes = { role = "VIEWER" }\n' + extra_toml
    )
    return config

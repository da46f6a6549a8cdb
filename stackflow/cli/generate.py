"""`stackflow generate`: write `generated/tailordb.py`, the typed TailorDB module."""

from __future__ import annotations

import click

from stackflow.cli.common import config_option, note
from stackflow.config import display_path, load_config
from stackflow.errors import ConfigError


@click.command("generate")
@config_option
def generate(config_path: str | None) -> None:
    """Write generated/tailordb.py: a TypedDict per type and a typed get_db.

    Import it in jobs as `from generated.tailordb import get_db`; a type checker
    then flags unknown tables and columns.
    """
    from stackflow.tailordb import codegen
    from stackflow.tailordb.registry import load_tailordb

    config = load_config(config_path)
    tailordb = load_tailordb(config)
    if not tailordb.namespaces:
        raise ConfigError(
            f"{display_path(config.path)}: no TailorDB namespace to generate for; "
            'declare one: [db.tailordb] files = ["tailordb/*.py"]'
        )
    written = codegen.write(tailordb, config.root)
    note(f"Wrote {display_path(written)}")

"""`stackflow db migrate [--dry-run]`: create the missing TailorDB tables, columns and indexes."""

from __future__ import annotations

import click

from stackflow.cli.common import config_option, note
from stackflow.config import load_config


@click.command("migrate")
@config_option
@click.option("--dry-run", is_flag=True, help="Print the SQL without running it.")
@click.option("-n", "--namespace", default=None, help="Only this TailorDB namespace.")
def migrate(config_path: str | None, dry_run: bool, namespace: str | None) -> None:
    """Bring the TailorDB databases to the declared types (nothing is ever dropped).

    The SQL goes to stdout. Unsafe changes (a column's kind changed, a field made
    required while rows hold NULL) stop with an error telling what to do.
    """
    from stackflow.tailordb.registry import load_tailordb

    tailordb = load_tailordb(load_config(config_path))
    if not tailordb.namespaces:
        note("No TailorDB namespaces are declared ([db.<name>] in stackflow.toml).")
        return
    names = [tailordb.namespace(namespace).name] if namespace else sorted(tailordb.namespaces)
    for name in names:
        target = tailordb.namespace(name)
        statements = target.migration_sql() if dry_run else target.migrate()
        for statement in statements:
            click.echo(statement)
        verb = "would run" if dry_run else "ran"
        note(f"Namespace '{name}': {verb} {len(statements)} statement(s).")

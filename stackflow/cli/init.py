"""`stackflow init [DIR]`: write a ready project (the seed's order-processing example)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from stackflow.cli.common import UsageError, note

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

TEMPLATE = "order_processing"
GITIGNORE = ".stackflow/\n__pycache__/\n"
START_COMMAND = (
    "stackflow workflow start order-processing -m admin "
    """-a '{"orderId": "o1", "customerId": "c1"}' -W"""
)


def template_files(name: str = TEMPLATE) -> dict[str, str]:
    """Relative path → text of every file of a project template.

    The template is the repository's examples/ project (stackflow/templates links to it).
    """
    from importlib import resources

    root = resources.files("stackflow") / "templates" / name
    return dict(sorted(_walk(root, "")))


def _walk(folder: Traversable, prefix: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for entry in folder.iterdir():
        relative = f"{prefix}{entry.name}"
        if entry.name.startswith(".") or entry.name == "__pycache__":
            continue  # the example's own state (.stackflow/) when it has been run
        if entry.is_dir():
            found.extend(_walk(entry, relative + "/"))
        elif not entry.name.endswith((".pyc", ".pyo")):
            found.append((relative, entry.read_text(encoding="utf-8")))
    return found


@click.command("init")
@click.argument("directory", default=".", type=click.Path(file_okay=False))
def init(directory: str) -> None:
    """Write a ready project in DIRECTORY (default: here): the order-processing example."""
    target = Path(directory)
    files = template_files()
    existing = sorted(path for path in files if (target / path).exists())
    if existing:
        raise UsageError(
            f"{target / existing[0]} already exists; stackflow init writes only new files "
            "(choose an empty directory)."
        )
    try:
        _write(target, files)
    except OSError as error:
        raise UsageError(f"Cannot write the project into {directory}: {_reason(error)}.") from None
    where = "" if directory == "." else f"cd {directory} && "
    note(f"Created a stackflow project in {target.resolve()}. Run it with:")
    note(f"  {where}{START_COMMAND}")


def _write(target: Path, files: dict[str, str]) -> None:
    for relative, text in files.items():
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    gitignore = target / ".gitignore"
    if not gitignore.exists():
        gitignore.write_text(GITIGNORE, encoding="utf-8")


def _reason(error: OSError) -> str:
    """What stopped the write, naming the path in the way (a file where a directory goes)."""
    where = Path(error.filename) if error.filename else None
    blocking = next((p for p in where.parents if p.is_file()), None) if where else None
    if blocking is not None:
        return f"{blocking} is a file, not a directory"
    return f"{error.strerror or error}" + (f" ({where})" if where else "")

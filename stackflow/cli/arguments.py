"""`-a/--arg JSON` (or `-g JSON`): JSON text, `@FILE` to read it from a file, `-` from stdin."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from stackflow.arguments import parse_json_text
from stackflow.cli.common import UsageError
from stackflow.errors import JsonValueError

F = TypeVar("F", bound=Callable[..., Any])

FROM_FILE = "@"
FROM_STDIN = "-"


def arg_options(help_text: str) -> Callable[[F], F]:
    """The `-a/--arg` option and its TypeScript spelling `-g` (one of them, not both)."""
    full_help = f"{help_text} @FILE reads it from a file, - from stdin."

    def decorate(function: F) -> F:
        with_g = click.option("-g", "g_text", metavar="JSON", help="The same as -a/--arg.")
        with_a = click.option("-a", "--arg", "arg_text", metavar="JSON", help=full_help)
        return with_a(with_g(function))

    return decorate


def parse_arg(arg_text: str | None, g_text: str | None = None) -> Any:
    """The JSON value of `-a`/`-g` (None when neither is given); a UsageError (exit 2) for
    both at once, an unreadable file or stdin, or text that is not JSON."""
    if arg_text is not None and g_text is not None:
        raise UsageError("-a/--arg and -g give the same argument: use one of them, not both.")
    text = arg_text if arg_text is not None else g_text
    if text is None:
        return None
    source, json_text = _read(text)
    try:
        return parse_json_text(json_text)
    except JsonValueError as error:
        raise UsageError(f"Invalid JSON in {source}: {error}.") from None


def _read(text: str) -> tuple[str, str]:
    """(where the JSON came from, for messages; the JSON text)."""
    if text == FROM_STDIN:
        return "--arg from stdin", _decoded(_stdin_bytes(), "--arg from stdin")
    if not text.startswith(FROM_FILE):
        return "--arg", text
    path = text[len(FROM_FILE) :]
    source = f"--arg file '{path}'"
    try:
        with open(path, "rb") as file:
            return source, _decoded(file.read(), source)
    except OSError as error:
        raise UsageError(f"Cannot read the {source}: {error.strerror or error}.") from None


def _stdin_bytes() -> bytes:
    stream = click.get_binary_stream("stdin") if hasattr(sys.stdin, "buffer") else None
    if stream is not None:
        return stream.read()
    return sys.stdin.read().encode("utf-8", "surrogateescape")


def _decoded(raw: bytes, source: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise UsageError(
            f"The {source} is not UTF-8 text (byte {error.start}): save it as UTF-8."
        ) from None

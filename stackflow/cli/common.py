"""What every command shares: the config option, output helpers, usage errors."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from stackflow.errors import (
    ConfigError,
    ExecutionNotFound,
    InvalidArgument,
    NotResumable,
    ProjectLoadError,
    UnknownJob,
    UnknownMachineUser,
    UnknownWorkflow,
)
from stackflow.oneline import one_line
from stackflow.telemetry.autoconfig import configure_tracing_from_environment

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
USAGE_ERRORS: tuple[type[BaseException], ...] = (
    ConfigError,
    InvalidArgument,
    ProjectLoadError,
    UnknownWorkflow,
    UnknownMachineUser,
    UnknownJob,
)
NOT_FOUND_ERRORS: tuple[type[BaseException], ...] = (ExecutionNotFound, NotResumable)


def exit_code_for(error: BaseException) -> int:
    """The exit code of a command that ended with `error` (2: usage, else 1)."""
    if isinstance(error, NOT_FOUND_ERRORS):
        return EXIT_FAILED
    if isinstance(error, USAGE_ERRORS):
        return EXIT_USAGE
    return EXIT_FAILED


class UsageError(click.ClickException):
    """A usage error: printed as one line, exit code 2."""

    exit_code = EXIT_USAGE


def config_option(function: F) -> F:
    """The `-c/--config FILE` option naming the project's stackflow.toml."""
    return click.option(
        "-c",
        "--config",
        "config_path",
        type=click.Path(dir_okay=False),
        default=None,
        envvar="STACKFLOW_CONFIG",
        help="Path to stackflow.toml (default: found by walking up from here).",
    )(function)


def json_option(function: F) -> F:
    """The `-j/--json` flag: print data as JSON."""
    return click.option("-j", "--json", "as_json", is_flag=True, help="Print JSON.")(function)


def print_json(value: Any) -> None:
    """Print `value` as indented JSON on stdout."""
    click.echo(json.dumps(value, indent=2, ensure_ascii=False))


def note(message: str) -> None:
    """Print a note for the user on stderr (never mixed with data on stdout)."""
    click.echo(message, err=True)


def show_error(message: str) -> None:
    """Print `Error: message` on stderr as one line (control characters escaped)."""
    click.echo(f"Error: {one_line(message)}", err=True)


def fail(message: str, exit_code: int = EXIT_FAILED) -> None:
    """Print one error line on stderr and exit with `exit_code`."""
    show_error(message)
    sys.exit(exit_code)


_tracing_started = False


def start_tracing(report: Callable[[str], None] = lambda message: note(message)) -> None:
    """Set up tracing from the OTEL_* variables once per process; `report` gets any note."""
    global _tracing_started
    if _tracing_started:
        return
    _tracing_started = True
    message = configure_tracing_from_environment()
    if message is not None:
        report(message)

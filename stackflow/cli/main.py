"""The `stackflow` command group and `main(argv)`, which maps errors to exit codes."""

from __future__ import annotations

import sys
import traceback
from collections.abc import Sequence

import click

from stackflow.cli.common import EXIT_FAILED, exit_code_for, show_error
from stackflow.errors import StackflowError, StoreError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show a Python traceback on errors.")
@click.version_option(package_name="stackflow")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """stackflow: durable workflows for Python."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


NO_ARGS_IS_HELP: tuple[type[BaseException], ...] = tuple(
    getattr(click.exceptions, name)
    for name in ("NoArgsIsHelpError",)
    if hasattr(click.exceptions, name)
)
"""A group run without a command shows its help (click 8.2 and later raise this for it)."""


def _register_commands() -> None:
    from stackflow.cli import commands

    commands.register(cli)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI with `argv` and return the exit code (no traceback unless --debug)."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    _register_commands()
    try:
        result = cli.main(args=args, prog_name="stackflow", standalone_mode=False)
    except click.exceptions.Exit as done:
        return done.exit_code
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return 130
    except click.ClickException as error:
        _show_click_error(error)
        return error.exit_code
    except SystemExit as done:
        return done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    except (StackflowError, StoreError) as error:
        if debug:
            traceback.print_exc()
        show_error(str(error))
        return exit_code_for(error)
    except KeyboardInterrupt:
        return 130
    except Exception as error:
        if debug:
            traceback.print_exc()
        show_error(f"{type(error).__name__}: {error} (run with --debug for details)")
        return EXIT_FAILED
    return result if isinstance(result, int) else 0


def _show_click_error(error: click.ClickException) -> None:
    """One line for a usage error click found (an unknown option, a missing argument),
    naming the command's --help; help itself for a group run without a command."""
    if isinstance(error, NO_ARGS_IS_HELP):
        error.show()
        return
    message = error.format_message()
    if not message:  # already reported (the worker's JSON log)
        return
    context = getattr(error, "ctx", None)
    if isinstance(error, click.UsageError) and context is not None:
        message = f"{message.rstrip('.')}. See '{context.command_path} --help'."
    show_error(message)


def entry_point() -> None:
    """The console script."""
    sys.exit(main())

"""`stackflow serve` (alias `stackflow ui`): the dashboard, JSON API and webhooks with uvicorn."""

from __future__ import annotations

import errno
import os
import signal
import socket
import sys
import threading
import webbrowser
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

import click
import uvicorn

from stackflow.cli.common import UsageError, config_option, note
from stackflow.cli.workflow import open_engine
from stackflow.config import (
    CONFIG_PATH_VARIABLE,
    LOOPBACK_ONLY_VARIABLE,
    TOKEN_VARIABLE,
    ServeSettings,
)
from stackflow.network import is_loopback

GRACEFUL_SHUTDOWN_SECONDS = 5
APP_FACTORY = "stackflow.web.app:app_from_environment"
"""The web app, by name: the CLI hands it to uvicorn (as `uvicorn --factory` would)."""


@click.command("serve")
@click.option("--host", default=None, help="Address to listen on  [default: 127.0.0.1].")
@click.option("--port", type=int, default=None, help="Port, 0 for any  [default: 8765].")
@click.option(
    "--token",
    envvar=TOKEN_VARIABLE,
    default=None,
    help=f"Require `Authorization: Bearer TOKEN` on the API (or ${TOKEN_VARIABLE}).",
)
@click.option("--open/--no-open", "open_browser", default=True, help="Open it in a browser.")
@config_option
def serve(
    host: str | None,
    port: int | None,
    token: str | None,
    open_browser: bool,
    config_path: str | None,
) -> None:
    """Serve the dashboard, the JSON API and webhooks until Ctrl-C or SIGTERM."""
    with open_engine(config_path) as engine:
        project = engine.project
        settings = project.config.serve if project is not None else ServeSettings()
        _ = engine.store  # open (and migrate) the store before announcing the address
        config_file = str(project.config.path) if project is not None else None
    host = host or settings.host
    port = settings.port if port is None else port
    token = token or settings.token or None
    _check_address(host, port, token)
    listener = _bind(host, port)
    _hand_over(config_file, token, loopback=is_loopback(host))
    config = _config()
    config.load()  # build the app before announcing the address
    server = uvicorn.Server(config)
    url = _url(listener)
    note(f"stackflow serve: {url}")
    if open_browser:
        _open_browser(url)
    with _exit_quietly_on_signals():
        server.run(sockets=[listener])


def _hand_over(config_file: str | None, token: str | None, *, loopback: bool) -> None:
    """Tell the app factory what this command decided (uvicorn calls it without arguments)."""
    if config_file is not None:
        os.environ[CONFIG_PATH_VARIABLE] = config_file
    if token is not None:
        os.environ[TOKEN_VARIABLE] = token
    os.environ[LOOPBACK_ONLY_VARIABLE] = "1" if loopback else "0"


def _check_address(host: str, port: int, token: str | None) -> None:
    if not 0 <= port <= 65535:
        raise UsageError(f"--port must be between 0 and 65535, got {port}.")
    if token is None and not is_loopback(host):
        raise UsageError(
            f"Refusing to serve on {host} without a token: anyone who can reach it could "
            f"start, resume and cancel executions. Give --token, set ${TOKEN_VARIABLE}, "
            "or set token under [serve] in stackflow.toml."
        )


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host.strip("[]"), port))
    except OSError as error:
        listener.close()
        raise UsageError(_bind_error(host, port, error)) from None
    return listener


def _bind_error(host: str, port: int, error: OSError) -> str:
    if error.errno == errno.EADDRINUSE:
        return f"Port {port} on {host} is already in use: choose another with --port."
    reason = error.strerror or str(error)
    return f"Cannot listen on {host}:{port}: {reason}."


def _config() -> uvicorn.Config:
    return uvicorn.Config(
        APP_FACTORY,
        factory=True,
        log_level="warning",
        access_log=False,
        lifespan="off",
        server_header=False,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
    )


def _url(listener: socket.socket) -> str:
    host, port = listener.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


@contextmanager
def _exit_quietly_on_signals() -> Iterator[None]:
    """uvicorn stops on SIGINT/SIGTERM, then raises the signal again: let that end in exit 0."""

    def ignore(signum: int, frame: FrameType | None) -> None:
        return None

    previous = {sig: signal.signal(sig, ignore) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _has_display() -> bool:
    """Whether a graphical browser can open (never a console browser in this terminal)."""
    if not sys.platform.startswith("linux"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _open_browser(url: str) -> None:
    if _has_display():
        threading.Thread(target=webbrowser.open, args=(url,), daemon=True).start()
    else:
        note("No display to open a browser on: open the address above yourself.")

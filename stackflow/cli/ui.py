"""`stackflow ui`: serve the web dashboard until Ctrl-C or SIGTERM."""

from __future__ import annotations

import errno
import os
import signal
import sys
import threading
import webbrowser
from types import FrameType

import click

from stackflow.cli.common import UsageError, config_option, note
from stackflow.cli.workflow import open_engine
from stackflow.ui.server import DEFAULT_HOST, DEFAULT_PORT, DashboardServer, create_server


def _install_stop_handlers(server: DashboardServer) -> None:
    def stop(signum: int, frame: FrameType | None) -> None:
        # shutdown() waits for serve_forever() to return: call it off the serving thread.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)


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


@click.command("ui")
@click.option("--host", default=DEFAULT_HOST, show_default=True, help="Address to listen on.")
@click.option("--port", type=int, default=DEFAULT_PORT, show_default=True, help="Port (0: any).")
@click.option("--open/--no-open", "open_browser", default=True, help="Open it in a browser.")
@config_option
def ui(host: str, port: int, open_browser: bool, config_path: str | None) -> None:
    """Serve a web dashboard of the executions (resume and cancel too; it runs none)."""
    if not 0 <= port <= 65535:
        raise UsageError(f"--port must be between 0 and 65535, got {port}.")
    with open_engine(config_path) as engine:
        _ = engine.store  # open (and migrate) the store before announcing the address
        try:
            server = create_server(engine, host, port)
        except OSError as error:
            raise UsageError(_bind_error(host, port, error)) from None
        with server:
            _install_stop_handlers(server)
            note(f"stackflow ui: {server.url}")
            if open_browser:
                _open_browser(server.url)
            server.serve_forever()


def _bind_error(host: str, port: int, error: OSError) -> str:
    if error.errno == errno.EADDRINUSE:
        return f"Port {port} on {host} is already in use: choose another with --port."
    reason = error.strerror or str(error)
    return f"Cannot listen on {host}:{port}: {reason}."

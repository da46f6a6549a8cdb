"""Helpers for the dashboard tests: HTTP requests, free ports, the real `stackflow` command."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stackflow.cli.init import template_files

SCRIPT_TEXT = "<script>alert('x')</script>"
CLEARED_VARIABLES = ("STACKFLOW_CONFIG", "STACKFLOW_DATABASE_URL", "STACKFLOW_MACHINE_USER")


@dataclass
class Project:
    """The example project and the ids of its executions."""

    root: Path
    succeeded: str
    failed: str
    pending: str

    @property
    def config(self) -> Path:
        return self.root / "stackflow.toml"


@dataclass
class Reply:
    """An HTTP answer: status, headers and body."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def write_template(root: Path) -> Path:
    """The files `stackflow init` writes."""
    for relative, text in template_files().items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def request(
    url: str, method: str = "GET", headers: dict[str, str] | None = None, data: bytes | None = None
) -> Reply:
    """Send one request; an HTTP error status is returned, not raised."""
    sent = urllib.request.Request(url, method=method, headers=headers or {}, data=data)
    try:
        with urllib.request.urlopen(sent, timeout=10) as answer:
            return Reply(answer.status, dict(answer.headers), answer.read())
    except urllib.error.HTTPError as error:
        with error:
            return Reply(error.code, dict(error.headers), error.read())


def free_port() -> int:
    """A port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def command_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in CLEARED_VARIABLES}


def stackflow_json(cwd: Path, *args: str) -> Any:
    """The JSON printed by `python -m stackflow ARGS` in `cwd`."""
    done = subprocess.run(
        [sys.executable, "-m", "stackflow", *args],
        cwd=cwd,
        env=command_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(done.stdout)

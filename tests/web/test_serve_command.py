"""`stackflow serve` (and its alias `ui`) as a real process: serves, stops, refuses bad setups."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from commands import command_env
from web_helpers import Project, free_port

START_SECONDS = 30


def run(project: Project, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stackflow", *args, "--no-open"],
        cwd=project.root,
        env=command_env(**env),
        capture_output=True,
        text=True,
        timeout=60,
    )


@contextmanager
def serve(project: Project, *args: str, **env: str) -> Iterator[subprocess.Popen[str]]:
    """The command running, its first stderr line read; killed if still running afterwards."""
    with subprocess.Popen(
        [sys.executable, "-m", "stackflow", *args, "--no-open"],
        cwd=project.root,
        env=command_env(**env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    ) as server:
        try:
            yield server
        finally:
            if server.poll() is None:
                server.kill()
                server.wait()


def stop(server: subprocess.Popen[str]) -> str:
    server.send_signal(signal.SIGTERM)
    assert server.wait(timeout=START_SECONDS) == 0
    assert server.stderr is not None
    return server.stderr.read()


@pytest.mark.parametrize("command", ["serve", "ui"])
def test_serves_then_stops_on_sigterm(project: Project, command: str) -> None:
    port = free_port()
    with serve(project, command, "--port", str(port)) as server:
        assert server.stderr is not None
        assert server.stderr.readline().strip() == f"stackflow serve: http://127.0.0.1:{port}"
        reply = httpx.get(f"http://127.0.0.1:{port}/api/executions", timeout=10)
        assert reply.status_code == 200
        assert len(reply.json()) == 5
        assert httpx.get(f"http://127.0.0.1:{port}/").status_code == 200
        with httpx.stream("GET", f"http://127.0.0.1:{port}/api/events", timeout=10) as events:
            assert next(events.iter_lines()) == ": ready"
            assert "Traceback" not in stop(server)


def test_token_from_the_environment_and_the_config(project: Project) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/api/workflows"
    with serve(project, "serve", "--port", str(port), STACKFLOW_TOKEN="from-env") as server:
        assert server.stderr is not None
        server.stderr.readline()
        assert httpx.get(url).status_code == 401
        assert httpx.get(url, headers={"Authorization": "Bearer from-env"}).status_code == 200
        stop(server)
    config = project.config.read_text(encoding="utf-8")
    project.config.write_text(config + '\n[serve]\ntoken = "from-config"\n', encoding="utf-8")
    with serve(project, "serve", "--port", str(port)) as server:
        assert server.stderr is not None
        server.stderr.readline()
        assert httpx.get(url, headers={"Authorization": "Bearer from-env"}).status_code == 401
        assert httpx.get(url, headers={"Authorization": "Bearer from-config"}).status_code == 200
        stop(server)


def test_busy_port_is_one_line_exit_2(project: Project) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run(project, "serve", "--port", str(port))
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"Error: Port {port} on 127.0.0.1 is already in use: choose another with --port."
    ]


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.1"])
def test_non_loopback_without_a_token_is_refused(project: Project, host: str) -> None:
    done = run(project, "serve", "--host", host, "--port", str(free_port()))
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert line.startswith(f"Error: Refusing to serve on {host} without a token: ")
    assert "--token" in line and "STACKFLOW_TOKEN" in line and "[serve]" in line


def test_non_loopback_from_the_config_without_a_token_is_refused(project: Project) -> None:
    config = project.config.read_text(encoding="utf-8")
    project.config.write_text(config + '\n[serve]\nhost = "0.0.0.0"\n', encoding="utf-8")
    done = run(project, "serve")
    assert done.returncode == 2
    assert "Refusing to serve on 0.0.0.0 without a token" in done.stderr


def test_bad_port_is_exit_2(project: Project) -> None:
    done = run(project, "serve", "--port", "70000")
    assert done.returncode == 2
    assert done.stderr.strip() == "Error: --port must be between 0 and 65535, got 70000."


def test_help_names_the_options(project: Project) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "stackflow", "serve", "--help"],
        cwd=Path(project.root),
        env=command_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    for option in ("--host", "--port", "--token", "--no-open"):
        assert option in done.stdout

"""`stackflow ui` as a real process: serves the API, stops on SIGTERM, refuses a busy port."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys

from ui_helpers import Project, command_env, free_port, request

START_SECONDS = 30
CHOOSE_ANOTHER = "choose another with --port."


def test_serves_then_stops_on_sigterm(project: Project) -> None:
    port = free_port()
    with subprocess.Popen(
        [sys.executable, "-m", "stackflow", "ui", "--port", str(port), "--no-open"],
        cwd=project.root,
        env=command_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    ) as server:
        try:
            assert server.stderr is not None
            first = server.stderr.readline().strip()
            assert first == f"stackflow ui: http://127.0.0.1:{port}"
            reply = request(f"http://127.0.0.1:{port}/api/executions")
            assert reply.status == 200
            assert len(reply.json()) == 3
            server.send_signal(signal.SIGTERM)
            assert server.wait(timeout=START_SECONDS) == 0
            assert "Traceback" not in server.stderr.read()
        finally:
            if server.poll() is None:
                server.kill()
                server.wait()


def test_busy_port_is_one_line_exit_2(project: Project) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "stackflow", "ui", "--port", str(port), "--no-open"],
            cwd=project.root,
            env=command_env(),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert lines == [f"Error: Port {port} on 127.0.0.1 is already in use: {CHOOSE_ANOTHER}"]

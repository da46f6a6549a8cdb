"""A real `stackflow worker` process on a copy of examples/order-processing, with extra
workflows: one that fails and one with a slow job."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from commands import wait_until

START_SECONDS = 30.0

EXTRA_WORKFLOWS = {
    "explode.py": '''\
"""A workflow whose job always fails."""

from stackflow import create_workflow, workflow_job


@workflow_job("boom")
def boom(input):
    raise RuntimeError("no fuse")


@workflow_job("explode", deps=[boom])
def explode(input, ctx):
    return ctx.jobs.boom.trigger({})


workflow = create_workflow(name="explode", main_job=explode)
''',
    "slow.py": '''\
"""A workflow whose one job takes 0.3 s."""

import time

from stackflow import create_workflow, workflow_job


@workflow_job("nap")
def nap(input):
    time.sleep(0.3)
    return {"slept": 0.3}


workflow = create_workflow(name="slow", main_job=nap)
''',
}


def add_workflows(root: Path) -> None:
    for name, text in EXTRA_WORKFLOWS.items():
        (root / "workflows" / name).write_text(text, encoding="utf-8")


class WorkerProcess:
    """`python -m stackflow worker ARGS` in `root`, its stdout and stderr kept in files."""

    def __init__(self, root: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.root = root
        self.stdout_path = root / "worker.out"
        self.stderr_path = root / "worker.err"
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "stackflow", "worker", *args],
                cwd=root,
                env={**os.environ, **(env or {})},
                stdout=out,
                stderr=err,
            )

    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8")

    def stdout(self) -> str:
        return self.stdout_path.read_text(encoding="utf-8")

    def wait_started(self) -> None:
        wait_until(
            lambda: " started" in self.stderr() or self.process.poll() is not None,
            START_SECONDS,
            "the worker to start",
        )
        assert self.process.poll() is None, self.stderr()

    def metrics_port(self) -> int:
        found = re.search(r"serving metrics on port (\d+)", self.stderr())
        assert found is not None, self.stderr()
        return int(found.group(1))

    def stop(self) -> int:
        """SIGTERM, and wait for it to drain and exit; its exit code."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=30)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def json_objects(text: str) -> list[dict[str, Any]]:
    """The JSON objects written one after another (pretty-printed or not) in `text`."""
    decoder = json.JSONDecoder()
    found, index = [], 0
    while True:
        while index < len(text) and text[index].isspace():
            index += 1
        if index >= len(text):
            return found
        value, index = decoder.raw_decode(text, index)
        found.append(value)

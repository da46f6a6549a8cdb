"""The dashboard in headless Chromium: a page of 1,000 executions, a timeline of 1,000 jobs.

    python -m benchmarks.dashboard [--rounds 5] [--executions 1000] [--jobs 1000]

Builds a throwaway SQLite project with that many executions (and one execution
whose main job calls `--jobs` children), runs `stackflow serve` on it on
loopback, and times in Debian's Chromium (driven by Playwright) from the
navigation until the list holds its last row and shows its first, or the
timeline shows its bars. Prints the median, min and max of each over the rounds.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from stackflow import Engine

CHROMIUM = os.environ.get("STACKFLOW_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PROJECT_FILES = {
    "stackflow.toml": 'name = "dashboard-bench"\ndatabase = "sqlite:///state.db"\n',
    "workflows/fanout.py": """
        from stackflow import create_workflow, create_workflow_job, workflow_job

        square = create_workflow_job(name="square", body=lambda input: input["i"] * input["i"])


        @workflow_job("fan-out", deps=[square])
        def fan_out(input, ctx):
            handles = [ctx.jobs.square.start({"i": i}) for i in range(input["count"])]
            return sum(handle.result() for handle in handles)


        workflow = create_workflow(name="fanout", main_job=fan_out)
    """,
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.dashboard", description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--executions", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=1000)
    return parser


def _project(root: Path, executions: int, jobs: int) -> str:
    for name, text in PROJECT_FILES.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    with Engine.from_config(root / "stackflow.toml") as engine:
        big = engine.start("fanout", {"count": jobs})
        engine.wait(big, timeout=600)
        for index in range(executions - 1):
            engine.start("fanout", {"count": index % 7})
    return big


@contextmanager
def _serving(config: Path) -> Iterator[str]:
    """`stackflow serve` on a free loopback port, in its own process, as users run it."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "stackflow", "serve", "--port", str(port), "--no-open"]
    with subprocess.Popen(
        [*command, "-c", str(config)], stderr=subprocess.PIPE, text=True
    ) as server:
        assert server.stderr is not None
        server.stderr.readline()  # `stackflow serve: URL` once it listens
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            server.terminate()
            server.wait(timeout=30)


def _timed(browser: Any, action: Callable[[Any], None], rounds: int) -> list[float]:
    seconds = []
    for _ in range(rounds):
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        page = context.new_page()
        page.set_default_timeout(60_000)
        started = time.perf_counter()
        action(page)
        seconds.append(time.perf_counter() - started)
        context.close()
    return seconds


def _row(label: str, seconds: list[float]) -> str:
    median = statistics.median(seconds)
    return (
        f"| {label} | {median:.3f} s | {min(seconds):.3f}-{max(seconds):.3f} s | {len(seconds)} |"
    )


def main() -> int:
    """Build, serve, measure, print."""
    from playwright.sync_api import sync_playwright

    options = _parser().parse_args()
    with tempfile.TemporaryDirectory() as directory:
        big = _project(Path(directory), options.executions, options.jobs)
        count = options.executions

        def list_page(page: Any) -> None:
            page.goto(f"{url}/?limit={count}")
            page.wait_for_selector(f".execution-rows .erow:nth-child({count})", state="attached")
            page.wait_for_selector(".execution-rows .erow:first-child")

        def timeline(page: Any) -> None:
            page.goto(f"{url}/#/executions/{big}")
            page.wait_for_selector(".timeline .row .bar")

        with _serving(Path(directory) / "stackflow.toml") as url, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            listed = _timed(browser, list_page, options.rounds)
            drawn = _timed(browser, timeline, options.rounds)
            browser.close()
    print("| page (headless Chromium, navigation to drawn) | median | min-max | rounds |")
    print("|---|---|---|---|")
    print(_row(f"list of {count} executions", listed))
    print(_row(f"timeline of an execution with {options.jobs + 1} job executions", drawn))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

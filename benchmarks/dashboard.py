"""The dashboard in headless Chromium: a page of 1,000 executions, a timeline of 1,000 jobs.

    python -m benchmarks.dashboard [--rounds 5] [--executions 1000] [--jobs 1000]

Builds a throwaway SQLite project with that many executions (and one execution
whose main job calls `--jobs` children), runs `stackflow serve` on it on
loopback, and times in Debian's Chromium (driven by Playwright) from the
navigation until the list holds all its executions and shows its rows, or the
timeline shows its bars: in the page (performance.now() when the rows appear)
and as the driving script sees it (which adds the driver's round trips).
Prints the median, min and max of each over the rounds.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
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


WATCH = """selector => {
  window.drawnAt = null;
  new MutationObserver(() => {
    if (window.drawnAt === null && document.querySelector(selector)) {
      window.drawnAt = performance.now();
    }
  }).observe(document, { subtree: true, childList: true, attributes: true });
}"""
"""Notes, in the page, when `selector` first matches (performance.now(): since navigation)."""


def _timed(browser: Any, url: str, selector: str, rounds: int) -> tuple[list[float], list[float]]:
    """Seconds from navigation to drawn: in the page, and as the driving script sees it."""
    in_page, outside = [], []
    for _ in range(rounds):
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        page = context.new_page()
        page.set_default_timeout(60_000)
        page.add_init_script(f"({WATCH})({json.dumps(selector)})")
        started = time.perf_counter()
        page.goto(url)
        page.wait_for_selector(selector)
        outside.append(time.perf_counter() - started)
        in_page.append(page.evaluate("window.drawnAt") / 1000)
        context.close()
    return in_page, outside


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

        rows = f".execution-rows[data-count='{count}'] .erow"
        with _serving(Path(directory) / "stackflow.toml") as url, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            listed = _timed(browser, f"{url}/?limit={count}", rows, options.rounds)
            drawn = _timed(browser, f"{url}/#/executions/{big}", ".timeline .bar", options.rounds)
            browser.close()
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"load average at the end: {load} on {os.cpu_count()} cores")
    print("| page (headless Chromium, navigation to drawn) | median | min-max | rounds |")
    print("|---|---|---|---|")
    for label, (in_page, outside) in (
        (f"list of {count} executions", listed),
        (f"timeline of an execution with {options.jobs + 1} job executions", drawn),
    ):
        print(_row(f"{label}, in the page", in_page))
        print(_row(f"{label}, seen by the driver", outside))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""What waiting costs: an idle worker's and a waiting client's CPU, and the idle worker's writes.

`python -m benchmarks.idle [--seconds 30] [--postgres URL]` starts, on a fresh store:
- a `stackflow worker` with nothing to do, and reads its CPU time (user + system, from
  /proc) and the worker registrations it writes (the `workers.heartbeat_at` values seen
  by polling every 50 ms) over the span;
- a client process blocked in `engine.wait()` on an execution that a second worker keeps
  running for the whole span (a job sleeping longer than it), and reads its CPU time.
It prints one Markdown table (per backend): % of one core, and writes per second.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from benchmarks import pg, processes

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
SLEEPER = textwrap.dedent(
    """
    import time
    from stackflow import create_workflow, create_workflow_job

    def _sleep(input):
        time.sleep(input["seconds"])
        return {}

    sleeper = create_workflow_job(name="sleeper", body=_sleep)
    workflow = create_workflow(name="sleeper", main_job=sleeper)
    """
)
CLIENT = textwrap.dedent(
    """
    import sys
    from stackflow import Engine
    engine = Engine.from_config(sys.argv[1])
    engine.list_executions()  # open the store before saying so
    print("waiting", flush=True)
    engine.wait(sys.argv[2])
    """
)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def _project(root: Path, database: str) -> Path:
    (root / "workflows").mkdir(parents=True)
    (root / "workflows" / "sleeper.py").write_text(SLEEPER)
    config = root / "stackflow.toml"
    config.write_text(f'name = "idle"\ndatabase = "{database}"\n')
    return config


def _registrations(engine: object, seconds: float) -> float:
    """Worker registrations written per second, seen by polling `workers`."""
    store = engine.store  # type: ignore[attr-defined]
    seen: set[tuple[str, int]] = set()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        seen.update(store._read("SELECT id, heartbeat_at FROM workers"))
        time.sleep(0.05)
    return max(len(seen) - 1, 0) / seconds


def _measure(database: str, directory: Path, seconds: float) -> dict[str, float]:
    from stackflow import Engine

    config = _project(directory / "project", database)
    engine = Engine.from_config(config)
    engine.list_executions()
    command = [sys.executable, "-m", "stackflow", "worker"]
    results: dict[str, float] = {}
    with processes.serving(
        "idle worker",
        command,
        cwd=config.parent,
        log=directory / "idle.log",
        ready_marker=" started",
    ) as idle:
        time.sleep(1.0)
        before = cpu_seconds(idle.pid)
        results["writes/s"] = _registrations(engine, seconds)
        results["worker %"] = 100 * (cpu_seconds(idle.pid) - before) / seconds
        execution_id = engine.start("sleeper", {"seconds": seconds + 10})
        client = _client(config, execution_id, directory)
        try:
            _until_waiting(directory / "client.log")
            before = cpu_seconds(client)
            time.sleep(seconds)
            results["client %"] = 100 * (cpu_seconds(client) - before) / seconds
        finally:
            os.kill(client, 9)
            os.waitpid(client, 0)
    engine.close()
    return results


def _until_waiting(log: Path) -> None:
    """Until the client has loaded and entered `wait` (its start-up is not measured)."""
    while b"waiting" not in log.read_bytes():
        time.sleep(0.05)
    time.sleep(2.0)


def _client(config: Path, execution_id: str, directory: Path) -> int:
    import subprocess

    log = open(directory / "client.log", "wb")  # noqa: SIM115 (kept open for the child)
    process = subprocess.Popen(
        [sys.executable, "-c", CLIENT, str(config), execution_id],
        env=processes.child_environment(),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    return process.pid


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.idle", description=__doc__)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--postgres", default=os.environ.get("STACKFLOW_BENCH_POSTGRES_URL"))
    args = parser.parse_args(argv)
    print(
        "| backend | idle worker, % of one core | client in wait, % of one core "
        "| idle worker writes/s |"
    )
    print("|---|---|---|---|")
    backends = [("SQLite", None)] + ([("PostgreSQL", args.postgres)] if args.postgres else [])
    for name, url in backends:
        with tempfile.TemporaryDirectory(prefix="stackflow-idle-") as tmp:
            directory = Path(tmp)
            with pg.fresh_store(directory, url, "state.db") as (database, _):
                found = _measure(database, directory, args.seconds)
        print(
            f"| {name} | {found['worker %']:.2f} | {found['client %']:.2f} "
            f"| {found['writes/s']:.2f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

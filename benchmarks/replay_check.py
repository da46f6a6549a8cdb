"""`stackflow check --replay` on 1,000 waiting executions of 10 job executions each.

    python -m benchmarks.replay_check [--executions 1000] [--children 9] [--rounds 3]
                                      [--database URL]

Builds a throwaway project whose workflow's main job calls `--children` jobs and
then waits at a wait point, runs that many executions until they all wait (each
has 1 + children job executions), then times the replay check: in process
(`Engine.check_replay()`) and end to end (`stackflow check --replay -j` in a
subprocess: interpreter start, project load, replay, JSON out). Prints the
median, min and max of each over the rounds. The default store is a SQLite file
in the project; `--database` takes a PostgreSQL server URL instead, on which a
throwaway database is created (and dropped afterwards).
"""

from __future__ import annotations

import argparse
import json
import secrets
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from stackflow import Engine

WORKFLOW = textwrap.dedent(
    """
    from stackflow import create_wait_point, create_workflow, create_workflow_job, workflow_job

    review = create_wait_point("review")
    step = create_workflow_job(name="step", body=lambda input: {"i": input["i"], "ok": True})


    @workflow_job("pipeline-main", deps=[step])
    def main(input, ctx):
        done = [ctx.jobs.step({"i": i, "order": input["order"]}) for i in range(input["steps"])]
        review.wait({"order": input["order"]})
        return done


    workflow = create_workflow(name="pipeline", main_job=main)
    """
)


def build(root: Path, database: str | None, executions: int, children: int) -> Path:
    """The project, with `executions` executions waiting at their wait point."""
    (root / "workflows").mkdir(parents=True)
    (root / "workflows" / "pipeline.py").write_text(WORKFLOW)
    url = database or f"sqlite:///{root / 'state.db'}"
    (root / "stackflow.toml").write_text(f'name = "replay-bench"\ndatabase = "{url}"\n')
    config = root / "stackflow.toml"
    with Engine.from_config(config) as engine:
        for order in range(executions):
            engine.start("pipeline", {"order": order, "steps": children})
        engine.run_pending(concurrency=4)
        waiting = engine.list_executions(status="WAITING")
        assert len(waiting) == executions, f"{len(waiting)} of {executions} are WAITING"
        jobs = {len(e.job_executions) for e in (engine.get_execution(w.id) for w in waiting[:5])}
    print(f"{executions} executions WAITING, {jobs.pop()} job executions each", file=sys.stderr)
    return config


@contextmanager
def throwaway_database(server_url: str | None) -> Iterator[str | None]:
    """A fresh PostgreSQL database on the server (None: SQLite), dropped afterwards."""
    if server_url is None:
        yield None
        return
    import psycopg
    from psycopg import sql

    name = f"replay_bench_{secrets.token_hex(4)}"
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(server_url, autocommit=True) as admin:
            drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
            admin.execute(drop.format(sql.Identifier(name)))


def in_process(config: Path) -> float:
    """Seconds for Engine.check_replay() on a fresh engine (the project already loaded)."""
    with Engine.from_config(config) as engine:
        engine.store  # noqa: B018  (open the store before the clock starts)
        started = time.perf_counter()
        findings = engine.check_replay()
        elapsed = time.perf_counter() - started
    assert findings == [], findings[:3]
    return elapsed


def end_to_end(config: Path) -> float:
    """Seconds for `stackflow check --replay -j` in a subprocess."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "stackflow", "check", "--replay", "-j", "-c", str(config)],
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    assert done.returncode == 0 and json.loads(done.stdout) == [], done.stderr
    return elapsed


def summary(name: str, values: list[float]) -> str:
    return (
        f"| {name} | {statistics.median(values):.2f} s | "
        f"{min(values):.2f}-{max(values):.2f} s | {len(values)} |"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--executions", type=int, default=1000)
    parser.add_argument("--children", type=int, default=9)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database", help="a PostgreSQL URL (default: SQLite in the project)")
    options = parser.parse_args(argv)
    with (
        tempfile.TemporaryDirectory(prefix="replay-bench-") as directory,
        throwaway_database(options.database) as database,
    ):
        config = build(Path(directory), database, options.executions, options.children)
        inner = [in_process(config) for _ in range(options.rounds)]
        outer = [end_to_end(config) for _ in range(options.rounds)]
    print("| check --replay | median | min-max | rounds |")
    print("|---|---|---|---|")
    print(summary("Engine.check_replay()", inner))
    print(summary("stackflow check --replay -j", outer))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

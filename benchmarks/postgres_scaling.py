"""PostgreSQL scale-out: W2 throughput with 1-3 workers, recovery after a SIGKILL, W1 vs the floor.

    python -m benchmarks.postgres_scaling --postgres postgresql://user@host/db

Workers are real `stackflow worker` processes on a throwaway project; every
measurement runs in a fresh database next to the one the URL names.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from benchmarks import floor, pg

FLOW = textwrap.dedent(
    '''
    """Trivial children: W2 (5 per execution), W1 (a chain of N), and one that hangs once."""

    import os
    import time
    from pathlib import Path

    from stackflow import create_workflow, create_workflow_job


    def _child(input):
        return {"i": input["i"]}


    def _hang(input):
        first = Path(os.environ["BENCH_DIR"]) / f"hung-{input['run']}"
        if not first.exists():
            first.write_text(str(os.getpid()))
            time.sleep(3600)
        return {"ok": True}


    child = create_workflow_job(name="child", body=_child)
    hang = create_workflow_job(name="hang", body=_hang)


    def _main(input, ctx):
        if input.get("hang"):
            ctx.jobs.hang({"run": ctx.execution_id})
        return sum(ctx.jobs.child({"i": i})["i"] for i in range(input["children"]))


    main_job = create_workflow_job(name="bench-main", body=_main, deps=[child, hang])
    workflow = create_workflow(name="bench", main_job=main_job)
    '''
)
W2_EXECUTIONS = 500
W2_CHILDREN = 5
W1_CHILDREN = 1000
WORKER_CONCURRENCY = 8
FINISH_SECONDS = 600.0


class Project:
    """A throwaway project on one database, and its worker processes."""

    def __init__(self, root: Path, database: str, lease_seconds: float) -> None:
        self.root = root
        (root / "workflows").mkdir(parents=True)
        (root / "workflows" / "bench.py").write_text(FLOW)
        (root / "stackflow.toml").write_text(
            f'name = "bench"\ndatabase = "{database}"\n[workflow]\nfiles = ["workflows/*.py"]\n'
            f"[engine]\nlease_seconds = {lease_seconds}\n"
        )
        self.database = database
        self.workers: list[subprocess.Popen[bytes]] = []

    def engine(self):  # type: ignore[no-untyped-def]
        from stackflow import Engine

        return Engine.from_config(self.root / "stackflow.toml")

    def start_worker(self) -> subprocess.Popen[bytes]:
        log = self.root / f"worker-{len(self.workers)}.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("STACKFLOW_")}
        env["BENCH_DIR"] = str(self.root)
        with open(log, "wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "stackflow", "worker", "--concurrency",
                 str(WORKER_CONCURRENCY)],
                cwd=self.root, env=env, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        _wait(lambda: " started " in log.read_text(), 60, "a worker to start")
        self.workers.append(process)
        return process

    def stop(self) -> None:
        for process in self.workers:
            if process.poll() is None:
                process.kill()
                process.wait()


def _wait(condition: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.01)


@contextmanager
def _project(url: str, lease_seconds: float) -> Iterator[Project]:
    with pg.fresh_database(url) as (db_url, _), tempfile.TemporaryDirectory() as tmp:
        project = Project(Path(tmp) / "project", db_url, lease_seconds)
        try:
            yield project
        finally:
            project.stop()


def _count(url: str, status: str) -> int:
    import psycopg

    with psycopg.connect(url) as conn:
        found = conn.execute("SELECT count(*) FROM executions WHERE status = %s", (status,))
        row = found.fetchone()
        return int(row[0]) if row else 0


def w2_throughput(url: str, workers: int) -> float:
    """Executions/s for W2 with `workers` worker processes (all idle before the start)."""
    with _project(url, 15.0) as project, project.engine() as engine:
        engine.store  # migrate before the workers start  # noqa: B018
        for _ in range(workers):
            project.start_worker()
        started = time.perf_counter()
        for _ in range(W2_EXECUTIONS):
            engine.start("bench", {"children": W2_CHILDREN})
        _wait(lambda: _count(project.database, "SUCCESS") == W2_EXECUTIONS, FINISH_SECONDS, "W2")
        return W2_EXECUTIONS / (time.perf_counter() - started)


def recovery_seconds(url: str, lease_seconds: float, trials: int) -> list[float]:
    """Seconds from a worker's SIGKILL to its execution's SUCCESS on another worker."""
    found = []
    with _project(url, lease_seconds) as project, project.engine() as engine:
        project.start_worker()
        project.start_worker()
        for _ in range(trials):
            execution_id = engine.start("bench", {"children": 3, "hang": True})
            hung = project.root / f"hung-{execution_id}"
            _wait(hung.exists, 60, "the hang")
            time.sleep(1.5)  # mid-job, its lease renewed by heartbeats
            os.kill(int(hung.read_text()), signal.SIGKILL)
            killed = time.perf_counter()
            _wait(
                lambda: engine.get_execution(execution_id).status == "SUCCESS",  # noqa: B023
                lease_seconds + 60,
                "the takeover",
            )
            found.append(time.perf_counter() - killed)
            project.start_worker()  # back to two live workers
    return found


def w1_us_per_child(url: str) -> float:
    """µs per child of one execution running W1_CHILDREN sequential trivial children here."""
    with _project(url, 15.0) as project, project.engine() as engine:
        engine.wait(engine.start("bench", {"children": 10}), run_here=True)  # warm up
        execution_id = engine.start("bench", {"children": W1_CHILDREN})
        started = time.perf_counter()
        done = engine.wait(execution_id, run_here=True)
        elapsed = time.perf_counter() - started
        assert done.status == "SUCCESS", done.error
        return elapsed / W1_CHILDREN * 1e6


def main(argv: list[str] | None = None) -> int:
    """Run every measurement and print them (and a JSON line) to stdout."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", required=True, help="URL of a database on the server")
    parser.add_argument("--recovery-trials", type=int, default=5)
    parser.add_argument("--lease-seconds", type=float, default=15.0)
    args = parser.parse_args(argv)
    results: dict[str, object] = {}
    for workers in (1, 2, 3):
        rate = w2_throughput(args.postgres, workers)
        results[f"w2_{workers}_workers_executions_per_s"] = round(rate, 1)
        print(f"W2 ({W2_EXECUTIONS} × {W2_CHILDREN} children), {workers} worker(s): {rate:.1f}/s")
    recovery = recovery_seconds(args.postgres, args.lease_seconds, args.recovery_trials)
    median = statistics.median(recovery)
    results["recovery_seconds"] = [round(s, 2) for s in recovery]
    print(
        f"death → SUCCESS elsewhere (lease {args.lease_seconds:g}s): median {median:.2f}s "
        f"of {', '.join(f'{s:.2f}' for s in recovery)}"
    )
    per_child = w1_us_per_child(args.postgres)
    floor_us = float(floor.postgres_commit_us(args.postgres, W1_CHILDREN)["value"])
    results.update(w1_us_per_child=round(per_child, 1), floor_us_per_commit=round(floor_us, 1))
    print(
        f"W1 ({W1_CHILDREN} sequential children): {per_child:.0f} µs/child; bare INSERT+COMMIT "
        f"{floor_us:.0f} µs; ratio {per_child / floor_us:.2f}×"
    )
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`python -m benchmarks.soak`: the arguments, the run, the one-line JSON report."""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.soak import checks, claims
from benchmarks.soak.backends import booking_rows, integrity, store_url
from benchmarks.soak.project import WORKFLOW_NAME, expected_total, write_project
from benchmarks.soak.runner import UNFINISHED, Soak, SoakSettings


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.soak",
        description="Kill and pause real stackflow workers at random while executions run, "
        "then check that nothing was lost, repeated or stuck.",
    )
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--kills", type=int, default=200, help="SIGKILLs to deliver (200)")
    parser.add_argument("--workers", type=int, default=3, help="worker processes (3)")
    parser.add_argument("--seed", type=int, default=None, help="seed of the kill schedule")
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="a server to create the soak's database on "
        "(default: a throwaway cluster started with scripts/postgres-up)",
    )
    parser.add_argument(
        "--pause-chance",
        type=float,
        default=0.1,
        help="chance that a chaos event is a SIGSTOP past the lease (0.1)",
    )
    parser.add_argument("--lease-seconds", type=float, default=2.0)
    parser.add_argument(
        "--inflight", type=int, default=8, help="keep this many executions unfinished (8)"
    )
    parser.add_argument("--dir", type=Path, help="project directory (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the project directory")
    return parser.parse_args(argv)


def settings_from(args: argparse.Namespace) -> SoakSettings:
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**32)
    return SoakSettings(
        backend=args.backend,
        kills=args.kills,
        workers=args.workers,
        seed=seed,
        pause_chance=args.pause_chance,
        lease_seconds=args.lease_seconds,
        inflight=args.inflight,
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    settings = settings_from(args)
    print(
        f"soak: seed {settings.seed} ({settings.backend}, {settings.kills} kills, "
        f"{settings.workers} workers)",
        file=sys.stderr,
        flush=True,
    )
    root = args.dir or Path(tempfile.mkdtemp(prefix="stackflow-soak-"))
    root.mkdir(parents=True, exist_ok=True)
    with store_url(settings.backend, root, args.postgres) as url:
        config = write_project(root, url, settings.lease_seconds)
        soak = Soak(settings, root, config, url)
        try:
            elapsed = soak.run()
            report = build_report(soak, elapsed)
        finally:
            soak.engine.close()
    report["project"] = str(root)
    print(json.dumps(report, default=str), flush=True)
    if report["ok"] and not args.keep and args.dir is None:
        shutil.rmtree(root, ignore_errors=True)
    return 0 if report["ok"] else 1


def build_report(soak: Soak, elapsed: float) -> dict[str, Any]:
    s = soak.settings
    executions = [
        soak.engine.get_execution(e.id) for e in soak.engine.list_executions(WORKFLOW_NAME)
    ]
    marks = checks.read_marks(soak.log)
    logs = soak.pool.logs
    found = {
        "allSuccess": checks.all_success(executions, expected_total(s.stages, s.fanout)),
        "noneStuck": checks.none_stuck(executions, UNFINISHED),
        "finishedJobsNotRerun": checks.finished_jobs_not_rerun(executions, marks),
        "transactionalRowsOnce": checks.rows_exactly_once(executions, booking_rows(soak.url)),
        "oneClaimAtATime": checks.one_claim_at_a_time(marks, claims.read(soak.url)),
        "integrity": checks.integrity_ok(integrity(soak.url)),
        "noTraceback": checks.no_traceback(logs),
        "workersStayedUp": checks.verdict(soak.pool.exited),
        "startsSucceeded": checks.verdict(soak.tally.start_failures),
    }
    return {
        "ok": all(check["ok"] for check in found.values()),
        "failed": [name for name, check in found.items() if not check["ok"]],
        "backend": s.backend,
        "seed": s.seed,
        "kills": len(soak.pool.killed_pids),
        "killsBeforeReady": soak.tally.kills_before_ready,
        "pauses": soak.tally.pauses,
        "workers": s.workers,
        "workerProcesses": len(logs),
        "executions": len(executions),
        "startedByClient": soak.tally.started_by_client,
        "startedByCli": soak.tally.started_by_cli,
        "jobBodiesMarked": len(marks),
        "workerLostJobs": checks.worker_lost_jobs(executions),
        "leaseLost": len(checks.worker_lines(logs, "LEASE LOST")),
        "workerErrors": checks.verdict(checks.worker_lines(logs, " ERROR "))["examples"],
        "claimingFailed": len(checks.worker_lines(logs, "claiming failed")),
        "elapsedSeconds": round(elapsed, 1),
        "checks": found,
    }

"""`python -m benchmarks.run_one`: one workload, one engine row, one round; prints one JSON line.

Each measurement runs in its own process so engines share no state (DBOS keeps
a global instance) and each gets a fresh database in a fresh temporary directory.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import traceback
from pathlib import Path
from typing import Any

from benchmarks import spec


def measure(row: str, workload: str, n: int, synchronous: str, postgres_url: str | None) -> Any:
    """Run the workload for the row in a fresh temporary directory."""
    with tempfile.TemporaryDirectory(prefix="stackflow-bench-") as tmp:
        directory = Path(tmp)
        if row == spec.FLOOR_SQLITE_NORMAL or row == spec.FLOOR_SQLITE_FULL:
            from benchmarks import floor

            sync = "NORMAL" if row == spec.FLOOR_SQLITE_NORMAL else "FULL"
            return floor.sqlite_commit_us(directory, n, sync)
        if row == spec.FLOOR_POSTGRES:
            from benchmarks import floor

            return floor.postgres_commit_us(_need(postgres_url), n)
        if row in (spec.DBOS_DEFAULT, spec.DBOS_WAL):
            from benchmarks import dbos_side

            wal = row == spec.DBOS_WAL
            return dbos_side.run(workload, n, directory, wal=wal, synchronous=synchronous)
        from benchmarks import stackflow_side

        url = _need(postgres_url) if row == spec.STACKFLOW_POSTGRES else None
        return stackflow_side.run(workload, n, directory, synchronous=synchronous, postgres_url=url)


def _need(postgres_url: str | None) -> str:
    if not postgres_url:
        raise ValueError("this row needs --postgres URL")
    return postgres_url


def _error_text(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}".splitlines()[0]
    return text[:160]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run_one", description=__doc__)
    parser.add_argument("--engine", required=True, choices=sorted(spec.rows("NORMAL")))
    parser.add_argument("--workload", required=True, choices=["L", "W1", "W2", "W3", "W4"])
    parser.add_argument("--n", type=int, required=True)
    parser.add_argument("--synchronous", default="NORMAL", choices=["NORMAL", "FULL"])
    parser.add_argument("--postgres", default=None)
    args = parser.parse_args(argv)
    line: dict[str, Any] = {"engine": args.engine, "workload": args.workload, "n": args.n}
    try:
        line.update(measure(args.engine, args.workload, args.n, args.synchronous, args.postgres))
    except Exception as exc:
        traceback.print_exc(file=sys.stderr)
        line["error"] = _error_text(exc)
    sys.stdout.write(json.dumps(line) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

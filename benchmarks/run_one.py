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

_DBOS_ROWS = (spec.DBOS_DEFAULT, spec.DBOS_WAL, spec.DBOS_POSTGRES, spec.DBOS_POSTGRES_QUEUE)


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
        if row in _DBOS_ROWS:
            return _measure_dbos(row, workload, n, directory, synchronous, postgres_url)
        url = _need(postgres_url) if row == spec.STACKFLOW_POSTGRES else None
        if workload in spec.THROUGH_A_WORKER:
            from benchmarks import stackflow_deployed

            return stackflow_deployed.run(
                workload, n, directory, synchronous=synchronous, postgres_url=url
            )
        from benchmarks import stackflow_side

        return stackflow_side.run(workload, n, directory, synchronous=synchronous, postgres_url=url)


def _measure_dbos(
    row: str, workload: str, n: int, directory: Path, synchronous: str, postgres_url: str | None
) -> Any:
    """DBOS rows: W5 and the queue row through a separate DBOS process, the rest in-process."""
    url = _need(postgres_url) if row in (spec.DBOS_POSTGRES, spec.DBOS_POSTGRES_QUEUE) else None
    options: dict[str, Any] = {"wal": row == spec.DBOS_WAL, "synchronous": synchronous}
    options["postgres_url"] = url
    if workload == "W5" or row == spec.DBOS_POSTGRES_QUEUE:
        from benchmarks import dbos_deployed

        return dbos_deployed.run(workload, n, directory, **options)
    from benchmarks import dbos_side

    return dbos_side.run(workload, n, directory, **options)


def _need(postgres_url: str | None) -> str:
    if not postgres_url:
        raise ValueError("this row needs --postgres URL")
    return postgres_url


def _error_text(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}".splitlines()[0]
    return text[:160]


def _stackflow_tree() -> str | None:
    """The source tree the measured stackflow was imported from (None if it was not imported)."""
    module = sys.modules.get("stackflow")
    if module is None or module.__file__ is None:
        return None
    return str(Path(module.__file__).resolve().parents[1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run_one", description=__doc__)
    parser.add_argument("--engine", required=True, choices=sorted(spec.rows("NORMAL")))
    parser.add_argument("--workload", required=True, choices=[k for k in spec.ORDER if k != "S"])
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
    if (tree := _stackflow_tree()) is not None:
        line["stackflow_tree"] = tree
    sys.stdout.write(json.dumps(line) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

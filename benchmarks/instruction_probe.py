"""`python -m benchmarks.instruction_probe`: one workload's setup, warm-up and measured part,
run under callgrind by `benchmarks.instructions`.

The run with `--setup-only` stops where the measured part would start; the
difference of the two runs' instruction counts is what the measured part
costs. W3's warm-up is its own first run (the one that fails), so its
`--setup-only` run makes that run and stops before the resume. Prints one
JSON line: the stackflow tree it imported.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks import stackflow_side

WARM_UP_N = {"W1": 100, "W2": 50}
WORKLOADS = ("W1", "W2", "W3")


def _first_run_of_w3(engine: Any, n: int) -> None:
    """What `stackflow_side._w3` does before its resume: the run that fails."""
    failed = engine.wait(engine.start(stackflow_side.resume, {"n": n}))
    if failed.status != "FAILED":
        raise AssertionError(f"the first run ended {failed.status}, not FAILED")


def _run(engine: Any, workload: str, n: int, setup_only: bool) -> None:
    """The warm-up, then the measured workload unless `setup_only`."""
    run = stackflow_side._WORKLOADS[workload]
    if workload == "W3" and setup_only:
        _first_run_of_w3(engine, n)
    elif workload == "W3":  # the workload makes its first run itself, then resumes
        run(engine, n)
    else:
        run(engine, WARM_UP_N[workload])
        if not setup_only:
            run(engine, n)


def probe(workload: str, n: int, setup_only: bool) -> None:
    """Set up an engine on a fresh SQLite file and `_run` the workload on it."""
    from stackflow import Engine

    stackflow_side._runs.clear()
    with tempfile.TemporaryDirectory(prefix="stackflow-instructions-") as d:
        engine = Engine(database=f"sqlite:///{d}/s.db", workflows=stackflow_side.WORKFLOWS)
        engine.store  # launch: open and migrate the store  # noqa: B018
        try:
            _run(engine, workload, n, setup_only)
        finally:
            engine.close()


def _stackflow_tree() -> str:
    import stackflow

    return str(Path(stackflow.__file__ or "").resolve().parents[1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.instruction_probe")
    parser.add_argument("--workload", required=True, choices=WORKLOADS)
    parser.add_argument("--n", type=int, required=True)
    parser.add_argument("--setup-only", action="store_true")
    args = parser.parse_args(argv)
    probe(args.workload, args.n, args.setup_only)
    sys.stdout.write(json.dumps({"stackflow_tree": _stackflow_tree()}) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

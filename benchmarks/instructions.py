"""`python -m benchmarks.instructions`: the CPU instructions one unit of W1, W2 and W3 costs,
counted with valgrind's callgrind, for this tree and a baseline commit.

Each (tree, workload) runs `benchmarks.instruction_probe` twice under
callgrind: once up to the end of its warm-up (`--setup-only`), once with the
measured workload after it; the difference is what the workload executed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from benchmarks import callgrind, checkouts, instruction_table, machine, processes, spec
from benchmarks.cli import comma_list
from benchmarks.instruction_probe import WORKLOADS

PROG = "python -m benchmarks.instructions"
DEFAULT_JOBS = 2
TIMEOUT_SECONDS = 1800.0
UNITS = {"W1": "child", "W2": "execution", "W3": "resume"}
"""What one unit of each workload is: W1 and W2 divide by N, W3 is one resume of N children."""


@dataclass(frozen=True)
class Tree:
    """A stackflow source tree measured: this one, or a baseline checkout."""

    label: str
    path: Path


@dataclass(frozen=True)
class Measurement:
    """What one unit of a workload cost one tree, or why it could not be counted."""

    workload: str
    n: int
    tree: Tree
    instructions: int | None = None
    error: str | None = None

    @property
    def unit(self) -> str:
        return UNITS[self.workload]

    @property
    def per_unit(self) -> float | None:
        """Instructions per child (W1), per execution (W2) or per resume (W3)."""
        if self.instructions is None:
            return None
        return self.instructions if self.workload == "W3" else self.instructions / self.n


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--baseline", metavar="REV", help="also count the stackflow of commit REV")
    parser.add_argument("--only", action="append", help=f"workloads: {','.join(WORKLOADS)}")
    parser.add_argument("--n", type=int, help="N of every workload (default: the suite's N)")
    parser.add_argument("--json", action="store_true", help="print JSON lines, not Markdown")
    parser.add_argument(
        "--jobs", type=int, default=DEFAULT_JOBS, help="valgrind runs at a time (default 2)"
    )
    return parser


def _workloads(parser: argparse.ArgumentParser, args: argparse.Namespace) -> dict[str, int]:
    """The selected workloads and their N."""
    selected = comma_list(args.only) or list(WORKLOADS)
    unknown = sorted(set(selected) - set(WORKLOADS))
    if unknown:
        parser.error(f"unknown workload(s) {', '.join(unknown)}; choose from {','.join(WORKLOADS)}")
    if args.n is not None and args.n < 1:
        parser.error("--n must be at least 1")
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    chosen = [w for w in WORKLOADS if w in selected]
    return {w: args.n or spec.WORKLOADS[w].default_n for w in chosen}


def _probe(tree: Tree, workload: str, n: int, setup_only: bool, harness: Path) -> int:
    """The instructions one probe run executed, checked to have imported the tree's stackflow."""
    arguments = ["-m", "benchmarks.instruction_probe", "--workload", workload, "--n", str(n)]
    env = processes.child_environment() | {"PYTHONPATH": str(tree.path), "PYTHONHASHSEED": "0"}
    counted = callgrind.count(
        arguments + (["--setup-only"] if setup_only else []),
        cwd=harness,
        env=env,
        timeout_seconds=TIMEOUT_SECONDS,
    )
    imported = _imported_tree(counted.stdout)
    if imported.resolve() != tree.path.resolve():
        raise callgrind.CallgrindError(f"measured the stackflow of {imported}, not of {tree.path}")
    return counted.instructions


def _imported_tree(stdout: str) -> Path:
    """The stackflow tree named by the probe's JSON line."""
    for line in reversed(stdout.splitlines()):
        if line.startswith("{"):
            return Path(json.loads(line)["stackflow_tree"])
    raise callgrind.CallgrindError("the probe printed no result line")


def _measurement(workload: str, n: int, tree: Tree, runs: list[Future[int]]) -> Measurement:
    try:
        setup, whole = (run.result() for run in runs)
    except callgrind.CallgrindError as error:
        return Measurement(workload, n, tree, error=str(error))
    return Measurement(workload, n, tree, instructions=whole - setup)


def measure_all(
    workloads: dict[str, int], trees: list[Tree], harness: Path, jobs: int
) -> list[Measurement]:
    """Count every (workload, tree), `jobs` valgrind runs at a time, in table order."""
    started = time.perf_counter()
    out: list[Measurement] = []
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        pending = {
            (workload, tree): [
                pool.submit(_probe, tree, workload, n, setup_only, harness)
                for setup_only in (True, False)
            ]
            for workload, n in workloads.items()
            for tree in trees
        }
        for (workload, tree), runs in pending.items():
            found = _measurement(workload, workloads[workload], tree, runs)
            _progress(found, time.perf_counter() - started)
            out.append(found)
    return out


def _progress(found: Measurement, seconds: float) -> None:
    shown = found.error or instruction_table.per_unit_text(found)
    print(
        f"{found.workload} n={found.n}  {found.tree.label}: {shown}  ({seconds:.0f} s)",
        file=sys.stderr,
        flush=True,
    )


def _fail(message: str) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return 2


def _baseline(stack: contextlib.ExitStack, revision: str | None) -> checkouts.Baseline | None:
    """The baseline commit checked out until `stack` closes (None without --baseline)."""
    return None if revision is None else stack.enter_context(checkouts.baseline(revision))


def main(argv: list[str] | None = None) -> int:
    """Count, and print the table; returns the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    workloads = _workloads(parser, args)
    load_at_start = machine.load_average()
    try:
        valgrind = callgrind.version()
        callgrind.real_python()
        with contextlib.ExitStack() as stack:
            baseline = _baseline(stack, args.baseline)
            trees = [Tree("stackflow", checkouts.ROOT)]
            if baseline is not None:
                trees.append(Tree(f"stackflow@{baseline.label}", baseline.path))
            harness = stack.enter_context(checkouts.harness())
            found = measure_all(workloads, trees, harness, args.jobs)
    except callgrind.CallgrindError as error:
        return _fail(str(error))
    except checkouts.CheckoutError as error:
        return _fail(f"--baseline: {error}")
    described = machine.describe(load_at_start, baseline=baseline) | {"valgrind": valgrind}
    render = instruction_table.json_lines if args.json else instruction_table.markdown
    sys.stdout.write(render(described, found))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

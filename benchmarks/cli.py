"""Command line of `python -m benchmarks`."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys

from benchmarks import checkouts, machine, pg_cost, report, spec, table
from benchmarks.runner import DEFAULT_TIMEOUT_SECONDS, Settings, run_all

DEFAULT_ROUNDS = 3
DEFAULT_BUDGET_SECONDS = 15.0
POSTGRES_ENV = "STACKFLOW_BENCH_POSTGRES_URL"


def comma_list(values: list[str] | None) -> list[str]:
    """The items of a repeatable option that also takes comma lists (`--only W1,W3`)."""
    return [part.strip() for value in values or [] for part in value.split(",") if part.strip()]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="stackflow against DBOS Transact and the physical floor, side by side.",
    )
    parser.add_argument("--only", action="append", help=f"workloads to run: {','.join(spec.ORDER)}")
    parser.add_argument("--engine", action="append", help="rows to run (default: all)")
    parser.add_argument("--rounds", type=int, default=DEFAULT_ROUNDS)
    parser.add_argument("--json", action="store_true", help="print JSON lines, not Markdown")
    parser.add_argument("--quick", action="store_true", help="shrink every N (smoke runs)")
    parser.add_argument("--synchronous", default="NORMAL", choices=["NORMAL", "FULL"])
    parser.add_argument(
        "--postgres",
        default=os.environ.get(POSTGRES_ENV),
        help=f"PostgreSQL URL for the PostgreSQL rows (default: ${POSTGRES_ENV})",
    )
    parser.add_argument(
        "--budget",
        type=float,
        default=DEFAULT_BUDGET_SECONDS,
        help="seconds after which a cell gets no more rounds (it always gets one)",
    )
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_SECONDS)
    parser.add_argument(
        "--baseline",
        metavar="REV",
        help="also measure the stackflow of commit REV (stackflow@REV rows, same rounds)",
    )
    return parser


def _selection(
    parser: argparse.ArgumentParser, args: argparse.Namespace
) -> tuple[list[str], list[spec.Row]]:
    selected = comma_list(args.only) or list(spec.ORDER)
    unknown = sorted(set(selected) - set(spec.ORDER))
    if unknown:
        parser.error(
            f"unknown workload(s) {', '.join(unknown)}; choose from {', '.join(spec.ORDER)}"
        )
    all_rows = spec.rows(args.synchronous)
    chosen = comma_list(args.engine) or list(all_rows)
    unknown = sorted(set(chosen) - set(all_rows))
    if unknown:
        parser.error(f"unknown engine(s) {', '.join(unknown)}; choose from {', '.join(all_rows)}")
    rows = [all_rows[key] for key in chosen if args.postgres or not all_rows[key].needs_postgres]
    return selected, rows


def _postgres_settings(parser: argparse.ArgumentParser, url: str | None) -> dict[str, str]:
    if not url:
        return {}
    try:
        return pg_cost.server_settings(url)
    except Exception as error:  # psycopg missing, server down, bad URL: all stop here
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        parser.error(f"cannot read the settings of the --postgres server: {first}")


def _baseline(
    stack: contextlib.ExitStack, parser: argparse.ArgumentParser, revision: str | None
) -> checkouts.Baseline | None:
    """The baseline commit checked out until `stack` closes (None without --baseline)."""
    if revision is None:
        return None
    try:
        return stack.enter_context(checkouts.baseline(revision))
    except checkouts.CheckoutError as error:
        parser.error(f"--baseline: {error}")


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    """Run the suite and print the report; returns the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    selected, rows = _selection(parser, args)
    tasks = spec.tasks(selected, args.quick)
    postgres = _postgres_settings(parser, args.postgres)
    load_at_start = machine.load_average()
    with contextlib.ExitStack() as stack:
        baseline = _baseline(stack, parser, args.baseline)
        harness = stack.enter_context(checkouts.harness())
        if baseline is not None:
            rows = spec.with_baseline(rows, baseline.label, str(baseline.path))
        settings = Settings(
            args.rounds, args.budget, args.synchronous, args.postgres, harness, args.timeout
        )
        cells = run_all(tasks, rows, settings, _progress)
        built = report.build(cells, selected, tasks, rows, args.synchronous, args.quick)
        described = machine.describe(load_at_start, postgres, baseline)
    render = table.json_lines if args.json else table.markdown
    sys.stdout.write(render(described, built))
    return 0

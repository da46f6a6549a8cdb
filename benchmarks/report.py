"""Turn measured cells into report lines: medians, ranges, ratios and notes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from benchmarks import spec
from benchmarks.costs import CostLine, cost_lines
from benchmarks.runner import Cell
from benchmarks.spec import Row, Task
from benchmarks.stats import Summary, cost_multiple, scaling_ratio, speedup, summarize

_FLOOR_FOR_SYNCHRONOUS = {"NORMAL": spec.FLOOR_SQLITE_NORMAL, "FULL": spec.FLOOR_SQLITE_FULL}
_DBOS_COLUMNS = (
    ("vs_dbos", spec.DBOS_DEFAULT),
    ("vs_dbos_wal", spec.DBOS_WAL),
    ("vs_dbos_pg", spec.DBOS_POSTGRES),
)


@dataclass(frozen=True)
class Line:
    """One line of the report: a row's figure on one task, with its comparisons."""

    section: str
    task: Task
    row: Row
    unit: str
    summary: Summary | None
    error: str | None = None
    vs_dbos: float | None = None
    vs_dbos_wal: float | None = None
    vs_dbos_pg: float | None = None
    vs_floor: float | None = None
    floor_kind: str = "floor"
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ScalingLine:
    """Total cost at the largest N over the next size down, for one row."""

    row: Row
    n_small: int
    n_large: int
    ratio: float


def _median(cells: dict[tuple[Task, str], Cell], task: Task, row_key: str) -> float | None:
    cell = cells.get((task, row_key))
    found = summarize(cell.values) if cell else None
    return found.median if found else None


def _first_details(cell: Cell) -> dict[str, Any]:
    return cell.details[0] if cell.details else {}


def _floor_row(row: Row, details: dict[str, Any], synchronous: str) -> str | None:
    if row.measures in (spec.STACKFLOW_POSTGRES, spec.DBOS_POSTGRES):
        return spec.FLOOR_POSTGRES
    if row.measures in (spec.STACKFLOW, spec.STACKFLOW_OTEL):
        return _FLOOR_FOR_SYNCHRONOUS[synchronous]
    return _FLOOR_FOR_SYNCHRONOUS.get(str(details.get("synchronous")))


def _median_detail(cell: Cell, key: str) -> float | None:
    found = [float(d[key]) for d in cell.details if d.get(key) is not None]
    summary = summarize(found)
    return summary.median if summary else None


def _deployed_notes(cell: Cell) -> list[str]:
    """W5's tail latencies and how the executions reached whoever ran them."""
    notes: list[str] = []
    details = _first_details(cell)
    p90, p99 = _median_detail(cell, "p90_ms"), _median_detail(cell, "p99_ms")
    if p90 is not None and p99 is not None:
        notes.append(f"p90 {p90:.1f} ms, p99 {p99:.1f} ms")
    if "workers" in details:
        concurrency = details.get("worker_concurrency") or "?"
        notes.append(f"{details['workers']} stackflow worker process, concurrency {concurrency}")
    if "dbos_path" in details:
        notes.append(details["dbos_path"])
    if "history" in details:
        notes.append(f"the store held {details['history']:,} finished executions before")
    return notes


def _notes(task: Task, row: Row, cell: Cell) -> list[str]:
    notes: list[str] = []
    details = _first_details(cell)
    if task.kind in spec.THROUGH_A_WORKER:
        notes += _deployed_notes(cell)
    if task.kind == "W3" and cell.details:
        once = all(d.get("exactly_once") for d in cell.details)
        notes.append(f"exactly-once: {'yes' if once else 'NO'}")
        notes.append(f"resume = {details.get('resume')}")
        if "failed_child_rerun_after_ms" in details:
            delay = details["failed_child_rerun_after_ms"]
            notes.append(f"failed child re-ran {delay:.0f} ms after the fork call")
    if "journal_mode" in details:
        notes.append(f"journal={details['journal_mode']}, synchronous={details['synchronous']}")
    if task.kind == "W2" and "concurrency" in details:
        notes.append(f"run_pending(concurrency={details['concurrency']})")
    if details.get("database", "").startswith("shared"):
        notes.append(details["database"])
    if cell.errors and cell.values:
        notes.append(f"{len(cell.errors)} failed round(s): {cell.errors[0]}")
    return notes


def build_line(
    cells: dict[tuple[Task, str], Cell],
    section: str,
    task: Task,
    row: Row,
    synchronous: str,
    baseline: Row | None = None,
) -> Line:
    """The report line of one row on one task (compared with `baseline`, its row at another
    commit, when there is one)."""
    workload = spec.WORKLOADS[task.kind]
    cell = cells.get((task, row.key), Cell())
    summary = summarize(cell.values)
    if summary is None:
        error = cell.errors[0] if cell.errors else "not measured"
        return Line(section, task, row, workload.unit, None, error=error)
    ratios: dict[str, Any] = {}
    for attr, other in _DBOS_COLUMNS:
        theirs = _median(cells, task, other)
        if theirs is not None and other != row.key:
            ratios[attr] = speedup(summary.median, theirs, workload.lower_is_better)
    if task.kind == "W1":
        floor_key = _floor_row(row, _first_details(cell), synchronous)
        floor = _median(cells, Task("L", _floor_n(cells)), floor_key) if floor_key else None
        if floor is not None:
            ratios["vs_floor"] = cost_multiple(summary.median, floor)
    if task.kind == "W4":
        ratios["vs_floor"] = cost_multiple(summary.median, spec.W4_SLEEP_SECONDS * 1e3)
        ratios["floor_kind"] = "ideal"
    notes = _notes(task, row, cell)
    if baseline is not None and (theirs := _median(cells, task, baseline.key)) is not None:
        notes.append(_against_baseline(summary.median, theirs, workload, baseline))
    return Line(section, task, row, workload.unit, summary, notes=notes, **ratios)


def _against_baseline(mine: float, theirs: float, workload: spec.Workload, baseline: Row) -> str:
    """'1.03× faster than stackflow@abc1234 (µs/child -2.9%)': ratio, then the figure's change."""
    ratio = speedup(mine, theirs, workload.lower_is_better)
    words = f"{ratio:.2f}× faster" if ratio >= 1 else f"{1 / ratio:.2f}× slower"
    change = (mine - theirs) / theirs * 100
    return f"{words} than {baseline.label.split(' ')[0]} ({workload.unit} {change:+.1f}%)"


@dataclass(frozen=True)
class Report:
    """Everything the tables show."""

    lines: list[Line]
    scaling: list[ScalingLine]
    costs: list[CostLine]


def _floor_n(cells: dict[tuple[Task, str], Cell]) -> int:
    return next((task.n for task, _ in cells if task.kind == "L"), 0)


def build(
    cells: dict[tuple[Task, str], Cell],
    selected: list[str],
    tasks: list[Task],
    rows: list[Row],
    synchronous: str,
    quick: bool,
) -> Report:
    """Every report line in table order, the scaling ratios and the server costs."""
    baselines = {row.measures: row for row in rows if row.checkout is not None}
    w1 = spec.WORKLOADS["W1"]
    w1_n = w1.quick_n if quick else w1.default_n
    lines: list[Line] = []
    for key in spec.ORDER:
        if key not in selected and not (key == "L" and {"W1", "S"} & set(selected)):
            continue
        kind = "W1" if key == "S" else key
        section_tasks = sorted((t for t in tasks if t.kind == kind), key=lambda t: t.n)
        if key == "W1":
            section_tasks = [t for t in section_tasks if t.n == w1_n]
        for task in section_tasks:
            for row in rows:
                if spec.applies(row, kind):
                    baseline = baselines.get(row.key)
                    lines.append(build_line(cells, key, task, row, synchronous, baseline))
    scaling = _scaling(lines, rows, quick) if "S" in selected else []
    return Report(lines, scaling, cost_lines(cells, tasks, rows))


def _scaling(lines: list[Line], rows: list[Row], quick: bool) -> list[ScalingLine]:
    n_small, n_large = (spec.QUICK_SCALING_SIZES if quick else spec.SCALING_SIZES)[-2:]
    out: list[ScalingLine] = []
    for row in rows:
        medians = {
            line.task.n: line.summary.median
            for line in lines
            if line.section == "S" and line.row == row and line.summary is not None
        }
        if n_small in medians and n_large in medians:
            ratio = scaling_ratio(medians[n_small], n_small, medians[n_large], n_large)
            out.append(ScalingLine(row, n_small, n_large, ratio))
    return out

"""The PostgreSQL server's cost per W2W execution, one line per row measured on PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from benchmarks import spec
from benchmarks.runner import Cell
from benchmarks.spec import Row, Task
from benchmarks.stats import summarize

METRICS = ("write_transactions", "wal_bytes", "wal_records", "fpi_bytes")


@dataclass(frozen=True)
class CostLine:
    """Medians over the rounds of one row's server cost per execution."""

    task: Task
    row: Row
    rounds: int
    write_transactions: float
    wal_bytes: float
    wal_records: float
    fpi_bytes: float | None
    records_counted_by: str
    wal_bytes_vs_dbos: float | None = None


def _median(costs: list[dict[str, Any]], metric: str) -> float | None:
    found = summarize([float(c[metric]) for c in costs if c.get(metric) is not None])
    return found.median if found else None


def _line(task: Task, row: Row, costs: list[dict[str, Any]]) -> CostLine:
    medians = {metric: _median(costs, metric) for metric in METRICS}
    return CostLine(
        task,
        row,
        len(costs),
        medians["write_transactions"] or 0.0,
        medians["wal_bytes"] or 0.0,
        medians["wal_records"] or 0.0,
        medians["fpi_bytes"],
        str(costs[0].get("records_counted_by")),
    )


def cost_lines(
    cells: dict[tuple[Task, str], Cell], tasks: list[Task], rows: list[Row]
) -> list[CostLine]:
    """One line per row whose W2W rounds carry the server's cost; WAL bytes against DBOS's."""
    lines: list[CostLine] = []
    for task in (t for t in tasks if t.kind == "W2W"):
        for row in rows:
            cell = cells.get((task, row.key))
            costs = [d["server"] for d in cell.details if "server" in d] if cell else []
            if costs:
                lines.append(_line(task, row, costs))
    dbos = {line.task: line for line in lines if line.row.key == spec.DBOS_POSTGRES}
    return [
        _with_ratio(line, dbos.get(line.task)) if line.row.key != spec.DBOS_POSTGRES else line
        for line in lines
    ]


def _with_ratio(line: CostLine, dbos: CostLine | None) -> CostLine:
    if dbos is None or dbos.wal_bytes == 0:
        return line
    return replace(line, wal_bytes_vs_dbos=line.wal_bytes / dbos.wal_bytes)

"""Render the report as a Markdown table or as JSON lines."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from benchmarks import spec
from benchmarks.costs import CostLine
from benchmarks.report import Line, Report

ERROR_CHARS = 90
HEADER = (
    "| workload | engine | median | min-max | rounds "
    "| vs DBOS default | vs DBOS WAL | vs DBOS PG | vs floor | notes |"
)
COST_HEADER = (
    "| server cost per execution | engine | write transactions | WAL bytes | WAL records "
    "| WAL bytes vs DBOS PG | rounds | notes |"
)


def number(value: float) -> str:
    """A figure with as many decimals as it deserves."""
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _speedup(value: float | None) -> str:
    if value is None:
        return "—"
    if value >= 1:
        return f"{value:.2f}× faster"
    return f"{1 / value:.2f}× slower"


def _section_title(line: Line) -> str:
    if line.section == "S":
        return f"S: W1 at N={line.task.n}"
    return f"{line.section} (N={line.task.n})"


def _markdown_line(line: Line) -> str:
    if line.summary is None:
        error = line.error or ""
        shown = error if len(error) <= ERROR_CHARS else error[: ERROR_CHARS - 1] + "…"
        cells = [f"n/a ({shown})", "—", "0", "—", "—", "—", "—", ""]
    else:
        s = line.summary
        floor = "—" if line.vs_floor is None else f"{line.vs_floor:.2f}× {line.floor_kind}"
        cells = [
            f"{number(s.median)} {line.unit}",
            f"{number(s.low)}-{number(s.high)}",
            str(s.rounds),
            _speedup(line.vs_dbos),
            _speedup(line.vs_dbos_wal),
            _speedup(line.vs_dbos_pg),
            floor,
            "; ".join(line.notes),
        ]
    return "| " + " | ".join([_section_title(line), line.row.label, *cells]) + " |"


def postgres_settings(machine: dict[str, str]) -> str:
    """The PostgreSQL server of the PostgreSQL rows, as read back with SHOW; '' without one."""
    if "postgres_server_version" not in machine:
        return ""
    return (
        f"PostgreSQL {machine['postgres_server_version']} with "
        f"fsync={machine['postgres_fsync']}, "
        f"synchronous_commit={machine['postgres_synchronous_commit']}, "
        f"full_page_writes={machine['postgres_full_page_writes']} (read back with SHOW)"
    )


def _preamble(machine: dict[str, str]) -> str:
    text = (
        f"Measured {machine['date']} on {machine['nproc']} × {machine['cpu']}, "
        f"Python {machine['python']}, SQLite {machine['sqlite']}, dbos {machine['dbos']}, "
        f"stackflow {machine['stackflow']}; 1-minute load average {machine['load']} "
        "(start → end)."
    )
    if settings := postgres_settings(machine):
        text += f" PostgreSQL rows: {settings}."
    if "baseline" in machine:
        text += f" Baseline: {machine['baseline']}, checked out in a temporary git worktree."
    return text


def _cost_line(line: CostLine) -> str:
    notes = [] if line.fpi_bytes is None else [f"full-page images {line.fpi_bytes:.0f} B"]
    if line.records_counted_by != "pg_walinspect":
        notes.append(f"records from {line.records_counted_by}")
    vs = "—" if line.wal_bytes_vs_dbos is None else f"{line.wal_bytes_vs_dbos:.2f}×"
    cells = [
        f"W2W (N={line.task.n})",
        line.row.label,
        f"{line.write_transactions:.2f}",
        f"{line.wal_bytes:.0f}",
        f"{line.wal_records:.1f}",
        vs,
        str(line.rounds),
        "; ".join(notes),
    ]
    return "| " + " | ".join(cells) + " |"


def _cost_table(machine: dict[str, str], costs: list[CostLine]) -> list[str]:
    return [
        "",
        "PostgreSQL server cost per W2W execution (a main job and 5 children), from the first "
        "start to the last result, on "
        f"{postgres_settings(machine)}; write transactions from txid_current(), WAL from the "
        "insert LSN; everything the server wrote in that span counts, idle heartbeats and polls "
        "included.",
        "",
        COST_HEADER,
        "|" + "---|" * COST_HEADER.count(" | ") + "---|",
        *(_cost_line(line) for line in costs),
    ]


def markdown(machine: dict[str, str], report: Report) -> str:
    """The whole report as Markdown: machine, table, scaling ratios, server costs."""
    lines, scaling = report.lines, report.scaling
    out = [
        _preamble(machine),
        "",
        HEADER,
        "|" + "---|" * HEADER.count(" | ") + "---|",
    ]
    out += [_markdown_line(line) for line in lines]
    if scaling:
        out += ["", "| scaling | engine | total cost ratio | linear |", "|---|---|---|---|"]
        out += [
            f"| cost(N={s.n_large}) / cost(N={s.n_small}) | {s.row.label} "
            f"| {s.ratio:.2f}× | {s.n_large / s.n_small:.0f}× |"
            for s in scaling
        ]
    if report.costs:
        out += _cost_table(machine, report.costs)
    return "\n".join(out) + "\n"


def _line_json(line: Line) -> dict[str, Any]:
    data: dict[str, Any] = {
        "type": "result",
        "workload": line.section,
        "kind": line.task.kind,
        "n": line.task.n,
        "engine": line.row.key,
        "label": line.row.label,
        "unit": line.unit,
        "lower_is_better": spec.WORKLOADS[line.task.kind].lower_is_better,
        "error": line.error,
        "speedup_vs_dbos_default": line.vs_dbos,
        "speedup_vs_dbos_wal": line.vs_dbos_wal,
        "speedup_vs_dbos_pg": line.vs_dbos_pg,
        f"multiple_of_{line.floor_kind}": line.vs_floor,
        "notes": line.notes,
    }
    if line.summary is not None:
        data.update({k: v for k, v in asdict(line.summary).items()})
    return data


def _cost_json(line: CostLine) -> dict[str, Any]:
    data = asdict(line)
    data.update(type="server_cost", workload="W2W", n=line.task.n, engine=line.row.key)
    data["label"] = line.row.label
    del data["task"], data["row"]
    return data


def json_lines(machine: dict[str, str], report: Report) -> str:
    """The same report as JSON lines: the machine, then one object per table line."""
    lines, scaling = report.lines, report.scaling
    out = [json.dumps({"type": "machine", **machine}, ensure_ascii=False)]
    out += [json.dumps(_line_json(line), ensure_ascii=False) for line in lines]
    out += [
        json.dumps(
            {
                "type": "scaling",
                "engine": s.row.key,
                "label": s.row.label,
                "n_small": s.n_small,
                "n_large": s.n_large,
                "total_cost_ratio": s.ratio,
            }
        )
        for s in scaling
    ]
    out += [json.dumps(_cost_json(line), ensure_ascii=False) for line in report.costs]
    return "\n".join(out) + "\n"

"""Render the report as a Markdown table or as JSON lines."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from benchmarks import spec
from benchmarks.report import Line, ScalingLine

ERROR_CHARS = 90
HEADER = (
    "| workload | engine | median | min-max | rounds "
    "| vs DBOS default | vs DBOS WAL | vs floor | notes |"
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
        cells = [f"n/a ({shown})", "—", "0", "—", "—", "—", ""]
    else:
        s = line.summary
        floor = "—" if line.vs_floor is None else f"{line.vs_floor:.2f}× {line.floor_kind}"
        cells = [
            f"{number(s.median)} {line.unit}",
            f"{number(s.low)}-{number(s.high)}",
            str(s.rounds),
            _speedup(line.vs_dbos),
            _speedup(line.vs_dbos_wal),
            floor,
            "; ".join(line.notes),
        ]
    return "| " + " | ".join([_section_title(line), line.row.label, *cells]) + " |"


def markdown(machine: dict[str, str], lines: list[Line], scaling: list[ScalingLine]) -> str:
    """The whole report as Markdown: machine, table, scaling ratios."""
    out = [
        f"Measured {machine['date']} on {machine['nproc']} × {machine['cpu']}, "
        f"Python {machine['python']}, SQLite {machine['sqlite']}, dbos {machine['dbos']}, "
        f"stackflow {machine['stackflow']}; 1-minute load average {machine['load']} "
        "(start → end).",
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
        f"multiple_of_{line.floor_kind}": line.vs_floor,
        "notes": line.notes,
    }
    if line.summary is not None:
        data.update({k: v for k, v in asdict(line.summary).items()})
    return data


def json_lines(machine: dict[str, str], lines: list[Line], scaling: list[ScalingLine]) -> str:
    """The same report as JSON lines: the machine, then one object per table line."""
    out = [json.dumps({"type": "machine", **machine})]
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
    return "\n".join(out) + "\n"

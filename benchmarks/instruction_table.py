"""Render instruction counts as a Markdown table or as JSON lines."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from benchmarks.table import number

if TYPE_CHECKING:
    from benchmarks.instructions import Measurement

HEADER = "| workload | tree | instructions per unit | vs baseline |"
_SCALES = ((1e9, "G"), (1e6, "M"), (1e3, "k"))


def short(count: float) -> str:
    """An instruction count with a k, M or G suffix and three significant figures: "317k"."""
    for size, suffix in _SCALES:
        if abs(count) >= size:
            return f"{number(count / size)}{suffix}"
    return number(count)


def per_unit_text(found: Measurement) -> str:
    """ "317k / child", or "n/a (why)"."""
    if found.per_unit is None:
        return f"n/a ({found.error})"
    return f"{short(found.per_unit)} / {found.unit}"


def vs_baseline(found: Measurement, measured: list[Measurement]) -> float | None:
    """How much more (positive) or less this tree's figure is than the baseline's, in percent."""
    if found.tree.label != "stackflow" or found.per_unit is None:
        return None
    theirs = next(
        (m.per_unit for m in measured if m.workload == found.workload and m is not found), None
    )
    return None if not theirs else (found.per_unit - theirs) / theirs * 100


def _preamble(machine: dict[str, str]) -> str:
    text = (
        f"Counted {machine['date']} with {machine['valgrind']} (callgrind, instructions "
        f"executed), Python {machine['python']}, SQLite {machine['sqlite']}, "
        f"stackflow {machine['stackflow']}."
    )
    if "baseline" in machine:
        text += f" Baseline: {machine['baseline']}, checked out in a temporary git worktree."
    return text


def _line(found: Measurement, measured: list[Measurement]) -> str:
    change = vs_baseline(found, measured)
    shown = "—" if change is None else f"{change:+.1f} %"
    cells = [f"{found.workload} (N={found.n})", found.tree.label, per_unit_text(found), shown]
    return "| " + " | ".join(cells) + " |"


def markdown(machine: dict[str, str], measured: list[Measurement]) -> str:
    """The header line, then one table line per (workload, tree)."""
    out = [_preamble(machine), "", HEADER, "|---|---|---|---|"]
    out += [_line(found, measured) for found in measured]
    return "\n".join(out) + "\n"


def _line_json(found: Measurement, measured: list[Measurement]) -> dict[str, Any]:
    return {
        "type": "result",
        "workload": found.workload,
        "n": found.n,
        "tree": found.tree.label,
        "unit": found.unit,
        "instructions": found.instructions,
        "instructions_per_unit": found.per_unit,
        "vs_baseline_percent": vs_baseline(found, measured),
        "error": found.error,
    }


def json_lines(machine: dict[str, str], measured: list[Measurement]) -> str:
    """The same as JSON lines: the machine, then one object per table line."""
    out = [json.dumps({"type": "machine", **machine}, ensure_ascii=False)]
    out += [json.dumps(_line_json(found, measured), ensure_ascii=False) for found in measured]
    return "\n".join(out) + "\n"

"""What is measured: the workloads, their sizes, and the engine rows."""

from __future__ import annotations

from dataclasses import dataclass

FLOOR_SQLITE_NORMAL = "floor-sqlite-normal"
FLOOR_SQLITE_FULL = "floor-sqlite-full"
FLOOR_POSTGRES = "floor-postgres"
STACKFLOW = "stackflow"
STACKFLOW_POSTGRES = "stackflow-pg"
DBOS_DEFAULT = "dbos"
DBOS_WAL = "dbos-wal"

W4_SLEEP_SECONDS = 0.05
W2_CHILDREN_PER_EXECUTION = 5
W2_CONCURRENCY = 1  # run_pending() default: one execution at a time, no thread hand-offs
SCALING_SIZES = (100, 1000, 10000)
QUICK_SCALING_SIZES = (10, 20, 100)


@dataclass(frozen=True)
class Workload:
    """One workload: how it is sized and what its figure means."""

    key: str
    title: str
    unit: str
    lower_is_better: bool
    default_n: int
    quick_n: int


WORKLOADS: dict[str, Workload] = {
    w.key: w
    for w in (
        Workload("L", "L floor: INSERT+COMMIT loop", "µs/commit", True, 2000, 50),
        Workload("W1", "W1 chain: 1 execution, N sequential children", "µs/child", True, 1000, 20),
        Workload("W2", "W2 many: executions × 5 children", "executions/s", False, 500, 10),
        Workload("W3", "W3 resume: child N fails once, resume", "ms to result", True, 1000, 20),
        Workload("W4", "W4 fan-out: N parallel children × 50 ms", "ms wall", True, 100, 10),
        Workload("S", "Scaling: W1 at N = 100, 1000, 10000", "µs/child", True, 0, 0),
    )
}
ORDER = ("L", "W1", "W2", "W3", "W4", "S")


@dataclass(frozen=True)
class Row:
    """One engine configuration: a row of the table."""

    key: str
    label: str
    floor_only: bool = False
    needs_postgres: bool = False


def rows(synchronous: str) -> dict[str, Row]:
    """Every engine row, keyed; `synchronous` is the setting of the stackflow and DBOS WAL rows."""
    return {
        r.key: r
        for r in (
            Row(FLOOR_SQLITE_NORMAL, "floor: sqlite3 WAL, synchronous=NORMAL", floor_only=True),
            Row(FLOOR_SQLITE_FULL, "floor: sqlite3 WAL, synchronous=FULL", floor_only=True),
            Row(
                FLOOR_POSTGRES, "floor: psycopg 3 PostgreSQL", floor_only=True, needs_postgres=True
            ),
            Row(STACKFLOW, f"stackflow (SQLite WAL, synchronous={synchronous})"),
            Row(STACKFLOW_POSTGRES, "stackflow (PostgreSQL)", needs_postgres=True),
            Row(DBOS_DEFAULT, "DBOS 3.4.0 default (SQLite)"),
            Row(DBOS_WAL, f"DBOS 3.4.0 (SQLite WAL, synchronous={synchronous})"),
        )
    }


@dataclass(frozen=True)
class Task:
    """One measurement cell: a workload kind at one size, for the rows that take it."""

    kind: str
    n: int


def tasks(selected: list[str], quick: bool) -> list[Task]:
    """The cells to measure for the selected workloads, in table order, without duplicates.

    W1 and S need the floor for their ratio, so they bring L along.
    """
    wanted = set(selected)
    if wanted & {"W1", "S"}:
        wanted.add("L")
    out: list[Task] = []
    for key in ORDER:
        if key not in wanted:
            continue
        if key == "S":
            sizes = QUICK_SCALING_SIZES if quick else SCALING_SIZES
            out.extend(Task("W1", n) for n in sizes)
        else:
            w = WORKLOADS[key]
            out.append(Task(key, w.quick_n if quick else w.default_n))
    return list(dict.fromkeys(out))


def applies(row: Row, kind: str) -> bool:
    """Whether a row takes part in a workload kind (floor rows in L only, the others not in L)."""
    return row.floor_only == (kind == "L")

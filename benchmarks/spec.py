"""What is measured: the workloads, their sizes, and the engine rows."""

from __future__ import annotations

from dataclasses import dataclass, replace

FLOOR_SQLITE_NORMAL = "floor-sqlite-normal"
FLOOR_SQLITE_FULL = "floor-sqlite-full"
FLOOR_POSTGRES = "floor-postgres"
STACKFLOW = "stackflow"
STACKFLOW_POSTGRES = "stackflow-pg"
STACKFLOW_OTEL = "stackflow-otel"
DBOS_DEFAULT = "dbos"
DBOS_WAL = "dbos-wal"
DBOS_POSTGRES = "dbos-pg"
DBOS_POSTGRES_QUEUE = "dbos-pg-queue"

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
        Workload("W2W", "W2 through one live worker process", "executions/s", False, 500, 10),
        Workload("W5", "round trip through a live worker, p50", "ms p50", True, 200, 10),
        Workload(
            "W5H",
            "W5 on a store holding 100,000 finished executions, p50",
            "ms p50",
            True,
            200,
            10,
        ),
    )
}
ORDER = ("L", "W1", "W2", "W2W", "W3", "W4", "W5", "W5H", "S")
IN_PROCESS = frozenset({"W1", "W2", "W3", "W4"})
THROUGH_A_WORKER = frozenset({"W2W", "W5", "W5H"})


@dataclass(frozen=True)
class Row:
    """One engine configuration: a row of the table.

    `engine` is the configuration `benchmarks.run_one` measures (the key itself,
    except for a baseline row); `checkout` is the stackflow source tree a
    baseline row runs from (None: the tree these benchmarks belong to).
    """

    key: str
    label: str
    kinds: frozenset[str]
    needs_postgres: bool = False
    engine: str = ""
    checkout: str | None = None

    @property
    def measures(self) -> str:
        """The configuration run_one measures for this row."""
        return self.engine or self.key


_EVERY_WORKLOAD = IN_PROCESS | THROUGH_A_WORKER
_DBOS_WORKLOADS = _EVERY_WORKLOAD - {"W5H"}
"""W5H fills stackflow's tables only (its history is written straight into the store)."""
_FLOOR = frozenset({"L"})
_TRACED = frozenset({"W1", "W2"})
"""What tracing costs per job execution (W1) and per execution (W2)."""


def rows(synchronous: str) -> dict[str, Row]:
    """Every engine row, keyed; `synchronous` is the setting of the stackflow and DBOS WAL rows.

    DBOS's W5 round trip takes about a second with its default polling, so of
    the two SQLite DBOS rows only the WAL one (our durability) runs W5 and W2W.
    """
    return {
        r.key: r
        for r in (
            Row(FLOOR_SQLITE_NORMAL, "floor: sqlite3 WAL, synchronous=NORMAL", _FLOOR),
            Row(FLOOR_SQLITE_FULL, "floor: sqlite3 WAL, synchronous=FULL", _FLOOR),
            Row(FLOOR_POSTGRES, "floor: psycopg 3 PostgreSQL", _FLOOR, needs_postgres=True),
            Row(STACKFLOW, f"stackflow (SQLite WAL, synchronous={synchronous})", _EVERY_WORKLOAD),
            Row(STACKFLOW_POSTGRES, "stackflow (PostgreSQL)", _EVERY_WORKLOAD, needs_postgres=True),
            Row(
                STACKFLOW_OTEL,
                f"stackflow traced (OpenTelemetry SDK, batch export; SQLite, {synchronous})",
                _TRACED,
            ),
            Row(DBOS_DEFAULT, "DBOS 3.4.0 default (SQLite)", IN_PROCESS),
            Row(DBOS_WAL, f"DBOS 3.4.0 (SQLite WAL, synchronous={synchronous})", _DBOS_WORKLOADS),
            Row(DBOS_POSTGRES, "DBOS 3.4.0 (PostgreSQL)", _DBOS_WORKLOADS, needs_postgres=True),
            Row(
                DBOS_POSTGRES_QUEUE,
                "DBOS 3.4.0 queue, separate process (PostgreSQL)",
                frozenset({"W2W"}),
                needs_postgres=True,
            ),
        )
    }


def with_baseline(chosen: list[Row], label: str, checkout: str) -> list[Row]:
    """`chosen` with a `stackflow@label` row after each stackflow row, run from `checkout`."""
    out: list[Row] = []
    for row in chosen:
        out.append(row)
        if row.key in (STACKFLOW, STACKFLOW_POSTGRES):
            name = row.label.replace("stackflow", f"stackflow@{label}", 1)
            key = f"{row.key}@{label}"
            out.append(replace(row, key=key, label=name, engine=row.key, checkout=checkout))
    return out


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
    """Whether a row takes part in a workload kind (floor rows in L only)."""
    return kind in row.kinds

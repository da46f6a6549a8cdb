"""The soak's verdict: what the store, the marks log and the worker logs must show afterwards.

Definitions (docs/reliability.md explains them):

- A *mark* is the line a job body appends, fsynced, just before it returns:
  `<execution> <label> <pid> <fence> <store fence> <start ms>`; the label names the
  call within its execution (`main`, `stage1`, `stage1/leaf2`, `stage1/book`).
- A job runs *again after its result was recorded* when a mark of that call started
  (its body's first statement, wall clock, ms) after the `finishedAt` of the call's
  recorded SUCCESS. `finishedAt` is taken before the commit, so this also catches a
  body started between the result and its commit. Runs that started before it are the
  permitted at-least-once repeats: a process died, or lost its claim, before recording.
- Two claims *run one execution at once* when a job body starts under a claim (fence
  f) after a newer claim of that execution (fence above f) was taken. The store logs
  the time of every claim itself (claims.py), so a worker killed or paused before it
  could log anything is still seen. The store fence the body read is kept in the mark
  to show in a report, not judged: a pause between the body's start and that read makes
  it look newer than the start was.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.soak.claims import Claims
from stackflow import Execution

EXAMPLES = 5


@dataclass(frozen=True)
class Mark:
    """One line of the marks log."""

    execution: str
    label: str
    pid: int
    fence: int
    store_fence: int
    started_ms: int

    @classmethod
    def parse(cls, line: str) -> Mark:
        execution, label, pid, fence, store_fence, started = line.split()
        return cls(execution, label, int(pid), int(fence), int(store_fence), int(started))


def read_marks(path: Path) -> list[Mark]:
    if not path.exists():
        return []
    return [Mark.parse(line) for line in path.read_text().splitlines() if line.strip()]


def verdict(found: Iterable[Any], **extra: Any) -> dict[str, Any]:
    """A check's entry: ok when nothing was found, with a count and a few examples."""
    items = list(found)
    return {"ok": not items, "count": len(items), "examples": items[:EXAMPLES], **extra}


def label_of(job: Any) -> str:
    return "main" if job.stacked_job_name == "main" else str(job.input["label"])


def all_success(executions: list[Execution], total: int) -> dict[str, Any]:
    wrong = [
        {"id": e.id, "status": str(e.status), "result": e.result, "error": e.error}
        for e in executions
        if e.status != "SUCCESS" or e.result != {"total": total}
    ]
    return verdict(wrong, executions=len(executions))


def none_stuck(executions: list[Execution], unfinished: Iterable[str]) -> dict[str, Any]:
    stuck = [{"id": e.id, "status": str(e.status)} for e in executions if e.status in unfinished]
    return verdict(stuck)


def finished_jobs_not_rerun(executions: list[Execution], marks: list[Mark]) -> dict[str, Any]:
    """No SUCCESS recorded twice for one call, no body started after its SUCCESS was recorded,
    and every recorded SUCCESS backed by a mark (the body really ran to its end)."""
    by_call: dict[tuple[str, str], list[Mark]] = defaultdict(list)
    for mark in marks:
        by_call[(mark.execution, mark.label)].append(mark)
    found: list[dict[str, Any]] = []
    for execution in executions:
        successes: dict[str, list[int]] = defaultdict(list)
        for job in execution.job_executions:
            if job.status == "SUCCESS" and job.finished_at is not None:
                successes[label_of(job)].append(int(job.finished_at.timestamp() * 1000))
        for label, finished in successes.items():
            runs = [m.started_ms for m in by_call[(execution.id, label)]]
            call = f"{execution.id} {label}"
            if len(finished) > 1:
                found.append({"call": call, "problem": "SUCCESS recorded twice"})
            late = [started for started in runs if started > min(finished)]
            if late:
                found.append({"call": call, "problem": "ran after its SUCCESS was recorded"})
            if not any(started <= min(finished) for started in runs):
                found.append({"call": call, "problem": "SUCCESS recorded with no run marked"})
    return verdict(found, marks=len(marks))


def one_claim_at_a_time(marks: list[Mark], claims: Claims) -> dict[str, Any]:
    """No body started under a claim after a newer claim of its execution was taken."""
    newer: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for (execution, fence), claimed_ms in claims.items():
        newer[execution].append((fence, claimed_ms))
    found = []
    for mark in marks:
        taken = [
            (fence, ms)
            for fence, ms in newer[mark.execution]
            if fence > mark.fence and ms < mark.started_ms
        ]
        if taken:
            fence, ms = min(taken)
            problem = f"started {mark.started_ms - ms} ms after fence {fence} was claimed"
            found.append({"mark": _show(mark), "problem": problem})
    return verdict(found, claims=len(claims))


def _show(mark: Mark) -> str:
    return (
        f"{mark.execution} {mark.label} pid {mark.pid} fence {mark.fence}"
        f" (store at {mark.store_fence})"
    )


def rows_exactly_once(executions: list[Execution], rows: list[tuple[str, str]]) -> dict[str, Any]:
    """One Booking row per recorded SUCCESS of the transactional job, and no other row."""
    counts = Counter(rows)
    booked = {
        (e.id, str(j.input["label"]))
        for e in executions
        for j in e.job_executions
        if j.job_name == "book" and j.status == "SUCCESS"
    }
    found = [
        {"call": f"{e} {label}", "rows": counts.get((e, label), 0)}
        for e, label in sorted(booked | set(counts))
        if counts.get((e, label), 0) != (1 if (e, label) in booked else 0)
    ]
    return verdict(found, rows=len(rows), bookings=len(booked))


def integrity_ok(result: str | None) -> dict[str, Any]:
    if result is None:
        return {"ok": True, "result": "not applicable (PostgreSQL)"}
    return {"ok": result == "ok", "result": result}


def no_traceback(logs: list[Path]) -> dict[str, Any]:
    found = []
    for log in logs:
        text = log.read_text(errors="replace") if log.exists() else ""
        if "Traceback" in text:
            lines = text.splitlines()
            at = next(i for i, line in enumerate(lines) if "Traceback" in line)
            tail = next((ln for ln in lines[at + 1 :] if not ln.startswith((" ", "\t"))), "")
            found.append({"log": log.name, "error": tail[:300]})
    return verdict(found, logs=len(logs))


def worker_lines(logs: list[Path], word: str) -> list[str]:
    """Lines of the worker logs holding `word` (e.g. ERROR, LEASE LOST, claiming failed)."""
    found = []
    for log in logs:
        text = log.read_text(errors="replace") if log.exists() else ""
        found += [f"{log.name}: {line[:300]}" for line in text.splitlines() if word in line]
    return found


def worker_lost_jobs(executions: list[Execution]) -> int:
    """Job executions ended by a killed process (evidence that kills landed mid-execution)."""
    return sum(
        1
        for e in executions
        for j in e.job_executions
        if j.error and j.error.get("type") == "stackflow.WorkerLost"
    )

"""The soak harness: its checks catch what they claim to, and short soaks pass on both backends.

The full run (`python -m benchmarks.soak --kills 200`) is documented in docs/reliability.md.
The short soaks here pause workers past their lease too, at the default chance.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from benchmarks.soak import checks
from benchmarks.soak.checks import Mark
from stackflow import Execution, ExecutionStatus, JobExecution, JobStatus

ROOT = Path(__file__).resolve().parents[2]
EXECUTION = "e1"


def _at(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def _job(label: str, finished_ms: int, status: str = "SUCCESS", name: str = "leaf") -> JobExecution:
    return JobExecution(
        id=f"j-{label}-{finished_ms}",
        stacked_job_name=f"main/stage/{name}",
        job_name=name,
        status=JobStatus(status),
        attempt=1,
        input={"label": label},
        result={},
        error=None,
        logs="",
        started_at=_at(finished_ms - 10),
        finished_at=_at(finished_ms),
    )


def _execution(*jobs: JobExecution) -> Execution:
    return Execution(
        id=EXECUTION,
        workflow_name="soak",
        status=ExecutionStatus.SUCCESS,
        arg={},
        result={"total": 1},
        error=None,
        invoker=None,
        started_at=_at(0),
        finished_at=_at(10_000),
        job_executions=jobs,
    )


def _mark(label: str, started_ms: int, fence: int = 1, store_fence: int = 1) -> Mark:
    return Mark(EXECUTION, label, 100 + fence, fence, store_fence, started_ms)


def test_a_job_run_before_its_record_is_allowed_and_one_run_after_it_is_not() -> None:
    execution = _execution(_job("s0/leaf0", finished_ms=2_000))
    repeated_before = [_mark("s0/leaf0", 1_000), _mark("s0/leaf0", 1_500, fence=2)]

    assert checks.finished_jobs_not_rerun([execution], repeated_before)["ok"]
    late = checks.finished_jobs_not_rerun([execution], [*repeated_before, _mark("s0/leaf0", 2_001)])
    assert late["examples"] == [
        {"call": f"{EXECUTION} s0/leaf0", "problem": "ran after its SUCCESS was recorded"}
    ]


def test_a_success_recorded_twice_or_without_a_run_is_caught() -> None:
    twice = _execution(_job("s0/leaf0", 2_000), _job("s0/leaf0", 3_000))
    problems = checks.finished_jobs_not_rerun([twice], [_mark("s0/leaf0", 1_000)])["examples"]
    assert {"call": f"{EXECUTION} s0/leaf0", "problem": "SUCCESS recorded twice"} in problems

    unmarked = checks.finished_jobs_not_rerun([_execution(_job("s0/leaf1", 2_000))], [])
    assert unmarked["examples"][0]["problem"] == "SUCCESS recorded with no run marked"


def test_a_body_started_after_a_newer_claim_of_its_execution_is_caught() -> None:
    claims = {(EXECUTION, 1): 900, (EXECUTION, 2): 1_200}
    in_turn = [_mark("a", 1_000), _mark("b", 1_300, fence=2)]

    late = checks.one_claim_at_a_time([*in_turn, _mark("c", 1_250)], claims)

    assert checks.one_claim_at_a_time(in_turn, claims)["ok"]
    assert late["count"] == 1
    assert late["examples"][0]["problem"] == "started 50 ms after fence 2 was claimed"


def test_a_body_that_read_a_newer_store_fence_after_starting_in_time_is_not_counted() -> None:
    """A pause between a body's start and its read of the store fence is no stale run."""
    claims = {(EXECUTION, 1): 900, (EXECUTION, 2): 4_000}

    paused_in_body = checks.one_claim_at_a_time([_mark("a", 1_000, store_fence=2)], claims)

    assert paused_in_body["ok"]


def test_transactional_rows_are_counted_against_the_recorded_bookings() -> None:
    execution = _execution(
        _job("s0/book", 2_000, name="book"), _job("s1/book", 3_000, "FAILED", "book")
    )
    once = [(EXECUTION, "s0/book")]

    assert checks.rows_exactly_once([execution], once)["ok"]
    assert checks.rows_exactly_once([execution], once * 2)["count"] == 1
    assert checks.rows_exactly_once([execution], [*once, (EXECUTION, "s1/book")])["count"] == 1
    assert checks.rows_exactly_once([execution], [])["count"] == 1


def test_a_traceback_in_a_worker_log_is_caught(tmp_path: Path) -> None:
    clean, crashed = tmp_path / "worker-0.log", tmp_path / "worker-1.log"
    clean.write_text("2026-01-01T00:00:00.000Z worker w started (concurrency 4)\n")
    crashed.write_text('Traceback (most recent call last):\n  File "x"\nRuntimeError: boom\n')

    found = checks.no_traceback([clean, crashed])

    assert found["examples"] == [{"log": "worker-1.log", "error": "RuntimeError: boom"}]


def _soak(*args: str, timeout: float) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.soak", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    report: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    failed = {name: report["checks"][name] for name in report["failed"]}  # type: ignore[index]
    assert done.returncode == 0 and report["ok"], json.dumps(failed)[:4000]
    assert "seed 7" in done.stderr
    return report


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a_short_soak_on_sqlite() -> None:
    report = _soak("--backend", "sqlite", "--kills", "20", "--seed", "7", timeout=540)

    assert report["kills"] == 20
    assert report["workerLostJobs"], "no kill landed while a job ran"
    assert report["startedByCli"] and report["startedByClient"]


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.timeout(600)
def test_a_short_soak_on_postgres(postgres_url: str) -> None:
    report = _soak(
        "--backend",
        "postgres",
        "--postgres",
        postgres_url,
        "--kills",
        "6",
        "--seed",
        "7",
        timeout=540,
    )

    assert report["kills"] == 6 and report["executions"]

"""`stackflow worker --log-format json` (or `[worker] log_format = "json"`): one JSON object
per line on stderr for everything the worker writes."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from worker_process import WorkerProcess

from stackflow import Engine

ORDER = {"orderId": "o1", "customerId": "c1"}
TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def json_lines(text: str) -> list[dict[str, Any]]:
    """Each line parsed on its own: every one must be a JSON object."""
    entries = [json.loads(line) for line in text.splitlines()]
    assert all(isinstance(entry, dict) for entry in entries)
    return entries


def _run_and_stop(worker: WorkerProcess, project: Path) -> tuple[str, str]:
    try:
        worker.wait_started()
        with Engine.from_config(project / "stackflow.toml") as engine:
            succeeded = engine.start("order-processing", ORDER, invoker="admin")
            failed = engine.start("explode", {})
            assert engine.wait(succeeded, timeout=30, run_here=False).status == "SUCCESS"
            assert engine.wait(failed, timeout=30, run_here=False).status == "FAILED"
        assert worker.stop() == 0, worker.stderr()
    finally:
        worker.kill()
    return succeeded, failed


def test_every_line_is_a_json_object_with_the_execution_it_is_about(worker_project: Path) -> None:
    worker = WorkerProcess(worker_project, "--log-format", "json", "--concurrency", "4")
    succeeded, failed = _run_and_stop(worker, worker_project)

    entries = json_lines(worker.stderr())
    worker_id = entries[0]["workerId"]
    assert worker_id.startswith("worker:")
    for entry in entries:
        assert TIME.match(entry["time"]) and entry["level"] in ("INFO", "WARNING")
        assert entry["workerId"] == worker_id
    messages = [entry["message"] for entry in entries]
    assert messages[0] == f"worker {worker_id} started (concurrency 4)"
    assert messages[-1] == f"worker {worker_id} stopped"
    assert any(m.startswith("Stopping: finishing the running executions") for m in messages)
    about = {(e.get("executionId"), e.get("status")): e for e in entries if "executionId" in e}
    assert set(about) == {
        (succeeded, "RUNNING"),
        (succeeded, "SUCCESS"),
        (failed, "RUNNING"),
        (failed, "FAILED"),
    }
    done = about[(succeeded, "SUCCESS")]
    assert done["workflowName"] == "order-processing" and done["level"] == "INFO"
    assert done["message"] == f"{succeeded} order-processing SUCCESS"
    failure = about[(failed, "FAILED")]
    assert failure["level"] == "WARNING" and failure["workflowName"] == "explode"
    assert failure["stackedJobName"] == "explode/boom"
    assert failure["error"] == "JobFailed: Job 'boom' failed: RuntimeError: no fuse"


def test_the_config_file_chooses_json_and_the_default_stays_text(worker_project: Path) -> None:
    text = WorkerProcess(worker_project)
    _, failed = _run_and_stop(text, worker_project)
    lines = text.stderr().splitlines()
    assert re.match(r"^\S+Z worker worker:\S+ started \(concurrency \d+\)$", lines[0])
    assert any(line.endswith(f" {failed} explode FAILED") for line in lines)
    assert not any(line.startswith("{") for line in lines)

    config = worker_project / "stackflow.toml"
    config.write_text(config.read_text() + '\n[worker]\nlog_format = "json"\n')
    configured = WorkerProcess(worker_project)
    _run_and_stop(configured, worker_project)
    entries = json_lines(configured.stderr())
    assert re.search(r"started \(concurrency \d+\)$", entries[0]["message"])
    assert any(entry.get("stackedJobName") == "explode/boom" for entry in entries)


def test_an_error_before_the_worker_starts_is_a_json_line_too(worker_project: Path) -> None:
    config = worker_project / "stackflow.toml"
    config.write_text(config.read_text() + '\n[worker]\nlog_format = "yaml"\n')
    worker = WorkerProcess(worker_project, "--log-format", "json")
    try:
        assert worker.process.wait(timeout=30) == 2
    finally:
        worker.kill()
    [entry] = json_lines(worker.stderr())
    assert entry["level"] == "ERROR"
    assert entry["message"] == (
        "Error: stackflow.toml: 'worker.log_format' must be one of text, json, got 'yaml'"
    )

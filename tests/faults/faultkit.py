"""Fault-injection kit: a project, real `stackflow worker` processes, the marks jobs leave."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from commands import wait_until

from stackflow.engine.engine import Engine

FLOW = textwrap.dedent(
    '''
    """A workflow whose steps leave a mark per run (key and pid) and can hang once."""

    import os
    import time
    from pathlib import Path

    from stackflow import create_workflow, create_workflow_job

    MARKS = Path(os.environ["FAULTS_DIR"])


    def _mark(name, line):
        with open(MARKS / name, "a") as marks:
            marks.write(line + "\\n")


    def step(input):
        key = f"{input['run']}/{input['i']}"
        _mark("runs.log", f"{key} {os.getpid()}")
        if input["i"] == input.get("hang_step"):
            first = MARKS / f"hung-{input['run']}"
            if not first.exists():
                first.write_text(str(os.getpid()))
                _mark("hanging", f"{key} {os.getpid()}")
                time.sleep(input["hang_seconds"])
        time.sleep(input.get("work", 0))
        return {"i": input["i"]}


    step_job = create_workflow_job(name="step", body=step)


    def main(input, ctx):
        results = []
        for i in range(input["steps"]):
            child = {**input, "run": ctx.execution_id, "i": i}
            results.append(ctx.jobs.step(child)["i"])
        return results


    main_job = create_workflow_job(name="main", body=main, deps=[step_job])
    workflow = create_workflow(name="faults", main_job=main_job)
    '''
)

WORKER_START_SECONDS = 30.0


@dataclass
class Worker:
    """One `stackflow worker` subprocess and its log file."""

    process: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def signal(self, number: int) -> None:
        self.process.send_signal(number)

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(timeout=10)


@dataclass
class FaultProject:
    """A project on one store; starts workers and reads the marks the jobs leave."""

    root: Path
    database: str
    marks: Path
    workers: list[Worker] = field(default_factory=list)
    killed: set[int] = field(default_factory=set)

    def engine(self) -> Engine:
        return Engine.from_config(self.root / "stackflow.toml")

    def start_worker(self, concurrency: int = 4) -> Worker:
        log = self.root / f"worker-{len(self.workers)}.log"
        with open(log, "wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "stackflow", "worker", "--concurrency", str(concurrency)],
                cwd=self.root,
                env=self._env(),
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        worker = Worker(process, log)
        self.workers.append(worker)
        wait_until(
            lambda: " started " in worker.text() or process.poll() is not None,
            WORKER_START_SECONDS,
            "a worker to start",
        )
        assert process.poll() is None, worker.text()
        return worker

    def kill(self, worker: Worker) -> None:
        """SIGKILL the worker and remember its pid: its in-flight jobs may run again."""
        self.killed.add(worker.pid)
        worker.kill()

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("STACKFLOW_")}
        env.update(FAULTS_DIR=str(self.marks), PYTHONUNBUFFERED="1")
        return env

    def runs(self) -> dict[str, list[int]]:
        """Step key (execution id/index) → pids of the processes that ran it, in order."""
        found: dict[str, list[int]] = defaultdict(list)
        log = self.marks / "runs.log"
        for line in log.read_text().splitlines() if log.exists() else []:
            key, pid = line.split()
            found[key].append(int(pid))
        return found

    def hanging(self) -> list[str]:
        path = self.marks / "hanging"
        return path.read_text().splitlines() if path.exists() else []

    def assert_finished_jobs_ran_once(self) -> None:
        """A step ran again only when an earlier run's worker was killed before recording it."""
        repeated = {
            key: pids
            for key, pids in self.runs().items()
            if len(pids) > 1 and not set(pids[:-1]) <= self.killed
        }
        assert repeated == {}, f"finished jobs ran twice (killed pids: {sorted(self.killed)})"

    def stop_all(self) -> None:
        for worker in self.workers:
            if worker.process.poll() is None:
                worker.signal(signal.SIGCONT)
                worker.kill()


def one_success_per_call_path(engine: Engine, execution_id: str) -> bool:
    """Each job of the execution has exactly one SUCCESS job execution."""
    execution = engine.get_execution(execution_id)
    successes = Counter(
        (j.stacked_job_name, j.input.get("i") if isinstance(j.input, dict) else None)
        for j in execution.job_executions
        if j.status == "SUCCESS"
    )
    return all(count == 1 for count in successes.values())


def make_project(root: Path, database: str, lease_seconds: float) -> FaultProject:
    (root / "workflows").mkdir(parents=True)
    (root / "workflows" / "faultflow.py").write_text(FLOW)
    marks = root / "marks"
    marks.mkdir()
    (root / "stackflow.toml").write_text(
        textwrap.dedent(
            f"""
            name = "faults"
            database = "{database}"
            [workflow]
            files = ["workflows/*.py"]
            [engine]
            lease_seconds = {lease_seconds}
            """
        )
    )
    return FaultProject(root, database, marks)

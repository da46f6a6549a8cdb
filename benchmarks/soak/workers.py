"""The soak's worker processes: started, SIGKILLed, paused and continued, by pid only."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

STOP_SECONDS = 30.0


@dataclass
class WorkerProcess:
    """One `stackflow worker` process of a slot, with its log file."""

    process: subprocess.Popen[bytes]
    log: Path
    started_at: float
    paused_until: float | None = None

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def ready(self) -> bool:
        """Whether it has logged that it started (it claims from then on)."""
        return " started " in self.log.read_text(errors="replace")


@dataclass
class WorkerPool:
    """`size` worker slots; a slot whose process is killed gets a new one."""

    root: Path
    env: dict[str, str]
    size: int
    concurrency: int
    slots: list[WorkerProcess] = field(default_factory=list)
    logs: list[Path] = field(default_factory=list)
    killed_pids: list[int] = field(default_factory=list)
    exited: list[dict[str, object]] = field(default_factory=list)

    def start_all(self) -> None:
        self.slots = [self._spawn() for _ in range(self.size)]

    def _spawn(self) -> WorkerProcess:
        log = self.root / "logs" / f"worker-{len(self.logs):04d}.log"
        log.parent.mkdir(exist_ok=True)
        self.logs.append(log)
        with open(log, "wb") as out:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "stackflow",
                    "worker",
                    "--concurrency",
                    str(self.concurrency),
                ],
                cwd=self.root,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        return WorkerProcess(process, log, time.monotonic())

    def kill(self, index: int) -> WorkerProcess:
        """SIGKILL the slot's process and start its replacement; return the killed one."""
        victim = self.slots[index]
        self.killed_pids.append(victim.pid)
        victim.process.kill()
        victim.process.wait(timeout=STOP_SECONDS)
        self.slots[index] = self._spawn()
        return victim

    def pause(self, index: int, seconds: float) -> None:
        """SIGSTOP the slot's process; `continue_due` sends SIGCONT after `seconds`."""
        worker = self.slots[index]
        worker.process.send_signal(signal.SIGSTOP)
        worker.paused_until = time.monotonic() + seconds

    def continue_due(self, force: bool = False) -> None:
        for worker in self.slots:
            due = worker.paused_until is not None and time.monotonic() >= worker.paused_until
            if worker.paused_until is not None and (due or force):
                worker.process.send_signal(signal.SIGCONT)
                worker.paused_until = None

    def replace_exited(self) -> None:
        """A worker that exited on its own is a finding: note it and start another."""
        for index, worker in enumerate(self.slots):
            code = worker.process.poll()
            if code is not None:
                self.exited.append({"pid": worker.pid, "code": code, "log": worker.log.name})
                self.slots[index] = self._spawn()

    def stop_all(self) -> None:
        """SIGTERM every worker (they drain), SIGKILL those still up after STOP_SECONDS."""
        self.continue_due(force=True)
        for worker in self.slots:
            if worker.alive():
                worker.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_SECONDS
        for worker in self.slots:
            try:
                worker.process.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                self.exited.append({"pid": worker.pid, "code": "did not stop on SIGTERM"})
                worker.process.kill()
                worker.process.wait(timeout=STOP_SECONDS)

    def pids(self) -> set[int]:
        return {worker.pid for worker in self.slots}


def worker_env(extra: dict[str, str]) -> dict[str, str]:
    """The workers' environment: this one without STACKFLOW_* overrides, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STACKFLOW_")}
    env.update(PYTHONUNBUFFERED="1", **extra)
    return env

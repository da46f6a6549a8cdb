"""The soak run: workers up, executions started throughout, kills and pauses, then the drain."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.soak import claims
from benchmarks.soak.project import LOG_VARIABLE, MACHINE_USER, STORE_VARIABLE, WORKFLOW_NAME
from benchmarks.soak.workers import WorkerPool, worker_env
from stackflow import Engine

UNFINISHED = ("PENDING", "PENDING_RESUME", "PENDING_RETRY", "RUNNING", "WAITING")
READY_SECONDS = 120.0
TICK_SECONDS = 0.05


@dataclass(frozen=True)
class SoakSettings:
    """What one soak does; `seed` fixes the kill and pause schedule and the arguments."""

    backend: str
    kills: int
    workers: int
    seed: int
    concurrency: int = 4
    lease_seconds: float = 2.0
    min_gap_seconds: float = 0.2
    max_gap_seconds: float = 1.2
    pause_chance: float = 0.1
    startup_kill_chance: float = 0.05
    inflight: int = 8
    cli_gap_seconds: float = 2.0
    stages: int = 3
    fanout: int = 3
    max_work_ms: int = 150
    drain_seconds: float = 240.0


@dataclass
class Tally:
    """What happened during the run (filled by the threads, read at the end)."""

    started_by_client: int = 0
    started_by_cli: int = 0
    pauses: int = 0
    kills_before_ready: int = 0
    start_failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Soak:
    """One soak run in a project directory on one store."""

    def __init__(self, settings: SoakSettings, root: Path, config: Path, url: str) -> None:
        self.settings = settings
        self.root = root
        self.config = config
        self.url = url
        self.log = root / "marks.log"
        self.env = worker_env({LOG_VARIABLE: str(self.log), STORE_VARIABLE: url})
        self.pool = WorkerPool(root, self.env, settings.workers, settings.concurrency)
        self.rng = random.Random(settings.seed)
        self.arg_rng = random.Random(settings.seed + 1)
        self.tally = Tally()
        self.stop_starting = threading.Event()
        self.engine = Engine.from_config(config)

    def arg(self) -> dict[str, Any]:
        s = self.settings
        with self.tally.lock:
            salt = self.arg_rng.randrange(1_000_000)
        return {"stages": s.stages, "fanout": s.fanout, "salt": salt, "max_work_ms": s.max_work_ms}

    # the run
    def run(self) -> float:
        """Start the workers and the starters, kill and pause, drain; the seconds it took."""
        began = time.monotonic()
        self._migrate()
        self.pool.start_all()
        self._wait_ready()
        starters = [
            threading.Thread(target=self._start_by_client, daemon=True),
            threading.Thread(target=self._start_by_cli, daemon=True),
        ]
        for thread in starters:
            thread.start()
        try:
            self._chaos()
        finally:
            self.stop_starting.set()
            for thread in starters:
                thread.join(timeout=120)
            self.pool.continue_due(force=True)
            self._drain()
            self.pool.stop_all()
        return time.monotonic() - began

    def _migrate(self) -> None:
        """Migrate the store and TailorDB once, before any worker starts, as a deployment does.

        (Concurrent first migrations are tested on their own: tests/reliability.)
        """
        self.engine.store  # noqa: B018  (opening the store migrates it)
        done = subprocess.run(
            [sys.executable, "-m", "stackflow", "db", "migrate"],
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"stackflow db migrate failed: {done.stderr.strip()}")
        claims.install(self.url)

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_SECONDS
        while not all(worker.ready() for worker in self.pool.slots):
            self.pool.replace_exited()
            if time.monotonic() > deadline:
                raise RuntimeError(f"workers did not start within {READY_SECONDS:g}s")
            time.sleep(TICK_SECONDS)

    def _chaos(self) -> None:
        s = self.settings
        kills = 0
        while kills < s.kills:
            self._sleep(self.rng.uniform(s.min_gap_seconds, s.max_gap_seconds))
            self.pool.replace_exited()
            index = self._victim()
            if index is None:
                continue
            if self.rng.random() < s.pause_chance and not self._any_paused():
                self.pool.pause(index, s.lease_seconds + self.rng.uniform(0.5, 2.0))
                self.tally.pauses += 1
                continue
            victim = self.pool.kill(index)
            self.tally.kills_before_ready += 0 if victim.ready() else 1
            kills += 1

    def _victim(self) -> int | None:
        """A random running worker; mostly one that is serving, rarely one still starting."""
        running = [i for i, w in enumerate(self.pool.slots) if w.paused_until is None]
        serving = [i for i in running if self.pool.slots[i].ready()]
        choice = self.rng.choice(running) if running else None
        if self.rng.random() < self.settings.startup_kill_chance:
            return choice
        return self.rng.choice(serving) if serving else None

    def _any_paused(self) -> bool:
        return any(worker.paused_until is not None for worker in self.pool.slots)

    def _sleep(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            self.pool.continue_due()
            time.sleep(min(left, TICK_SECONDS))

    def _drain(self) -> None:
        deadline = time.monotonic() + self.settings.drain_seconds
        while self.unfinished() and time.monotonic() < deadline:
            self.pool.replace_exited()
            time.sleep(0.2)

    def unfinished(self) -> int:
        return len(self.engine.list_executions(WORKFLOW_NAME, list(UNFINISHED)))

    # starting executions
    def _start_by_client(self) -> None:
        while not self.stop_starting.is_set():
            try:
                if self.unfinished() < self.settings.inflight:
                    self.engine.start(WORKFLOW_NAME, self.arg(), invoker=MACHINE_USER)
                    self.tally.started_by_client += 1
                    continue
            except Exception as error:  # a refused start is a finding, reported at the end
                self._start_failed(f"client: {type(error).__name__}: {error}")
            self.stop_starting.wait(0.1)

    def _start_by_cli(self) -> None:
        while not self.stop_starting.wait(self.settings.cli_gap_seconds):
            command = [sys.executable, "-m", "stackflow", "workflow", "start", WORKFLOW_NAME]
            command += ["-m", MACHINE_USER, "-a", json.dumps(self.arg()), "-j"]
            done = subprocess.run(
                command, cwd=self.root, env=self.env, capture_output=True, text=True, check=False
            )
            if done.returncode == 0 and '"executionId"' in done.stdout:
                self.tally.started_by_cli += 1
            else:
                self._start_failed(f"cli exit {done.returncode}: {done.stderr.strip()[-300:]}")

    def _start_failed(self, message: str) -> None:
        with self.tally.lock:
            self.tally.start_failures.append(message)

"""Helpers for the web tests: the example project, a live server, the real `stackflow` command."""

from __future__ import annotations

import socket
import textwrap
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn
from commands import stackflow

from stackflow.cli.init import template_files

SCRIPT_TEXT = "<script>alert('x')</script>"
HOOK_SECRET = "hook-secret-for-tests"
HOOK_SECRET_VARIABLE = "ORDER_HOOK_SECRET"
TOKEN = "t0ken-for-tests"
EXTRA_FILES = {
    "workflows/restock.py": '''
        """A workflow that fails until its gate file exists: resume it once the file is there."""
        from pathlib import Path

        from stackflow import create_workflow, create_workflow_job, workflow_job


        def _check_gate(input):
            print(f"checking {input['gate']}")
            if not Path(input["gate"]).exists():
                raise RuntimeError(f"gate {input['gate']} is closed")
            return {"open": True}


        check_gate = create_workflow_job(name="check-gate", body=_check_gate)
        record_stock = create_workflow_job(name="record-stock", body=lambda input: {"n": 1})


        @workflow_job("restock", deps=[check_gate, record_stock])
        def restock(input, ctx):
            ctx.jobs.check_gate.trigger({"gate": input["gate"]})
            return ctx.jobs.record_stock.trigger({})


        workflow = create_workflow(name="restock", main_job=restock)
    ''',
    "workflows/approval.py": '''
        """A workflow that waits for a manager's decision."""
        from stackflow import create_wait_point, create_workflow, workflow_job

        manager_approval = create_wait_point("manager-approval")


        @workflow_job("request-approval")
        def request_approval(input):
            decision = manager_approval.wait({"amount": input.get("amount", 0)})
            return {"approved": decision["approved"]}


        workflow = create_workflow(name="approval", main_job=request_approval)
    ''',
    "workflows/fanout.py": '''
        """A workflow whose main job calls one child per item, in parallel."""
        import time

        from stackflow import create_workflow, create_workflow_job, workflow_job

        square = create_workflow_job(name="square", body=lambda input: input["i"] * input["i"])


        @workflow_job("fan-out", deps=[square])
        def fan_out(input, ctx):
            time.sleep(input.get("pause", 0))
            handles = [ctx.jobs.square.start({"i": i}) for i in range(input["count"])]
            return sum(handle.result() for handle in handles)


        workflow = create_workflow(name="fanout", main_job=fan_out)
    ''',
    "workflows/hooks.py": '''
        """The webhooks: orders from the shop, restocks from the warehouse."""
        from stackflow import create_webhook

        from .order_processing import workflow as orders
        from .restock import workflow as restocks

        order_hook = create_webhook(
            "order-hook", workflow=orders, machine_user="admin", secret_env="ORDER_HOOK_SECRET"
        )
        restock_hook = create_webhook(
            "restock-hook",
            workflow=restocks,
            machine_user="admin",
            secret_env="ORDER_HOOK_SECRET",
            args=lambda body, headers: {"gate": body["gate"], "by": headers.get("x-sender")},
        )
    ''',
}


@dataclass
class Project:
    """The example project and the ids of its executions."""

    root: Path
    succeeded: str = ""
    failed: str = ""
    pending: str = ""
    ids: dict[str, str] = field(default_factory=dict)

    @property
    def config(self) -> Path:
        return self.root / "stackflow.toml"


def write_project(root: Path) -> Path:
    """The files `stackflow init` writes, plus the restock, approval, fanout and hook files."""
    files = dict(template_files())
    files.update({name: textwrap.dedent(text).lstrip() for name, text in EXTRA_FILES.items()})
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def free_port() -> int:
    """A port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class LiveServer:
    """An ASGI app served by uvicorn from a thread on a free loopback port."""

    def __init__(self, app: Any) -> None:
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
        config.timeout_graceful_shutdown = 2
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, args=([self.socket],), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.socket.getsockname()[1]}"

    def __enter__(self) -> LiveServer:
        self.thread.start()
        while not self.server.started:
            if not self.thread.is_alive():
                raise RuntimeError("the server did not start")
            self.thread.join(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.socket.close()


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """Serve `app` while the block runs; its base URL."""
    with LiveServer(app) as live:
        yield live.url


def stackflow_json(cwd: Path, *args: str) -> Any:
    """The JSON printed by `python -m stackflow ARGS` in `cwd`."""
    done = stackflow(cwd, *args)
    assert done.code == 0, done.stderr
    return done.json()

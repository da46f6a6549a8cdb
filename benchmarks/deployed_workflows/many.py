"""W2 through a worker: a main job calling 5 trivial children, returning the worker's process id."""

import os
from typing import Any

from stackflow import create_workflow, create_workflow_job

CHILDREN = 5


def _child(input: dict[str, Any]) -> dict[str, Any]:
    return {"i": input["i"], "ok": True}


child = create_workflow_job(name="child", body=_child)


def _many(input: dict[str, Any], ctx: Any) -> dict[str, Any]:
    for i in range(CHILDREN):
        ctx.jobs.child.trigger({"i": input["k"] * CHILDREN + i})
    return {"done": CHILDREN, "pid": os.getpid()}


many_main = create_workflow_job(name="many-main", body=_many, deps=[child])
workflow = create_workflow(name="many", main_job=many_main)

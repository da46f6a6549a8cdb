"""Which jobs a workflow can reach: through deps, and through `.trigger`/`.start` in bodies."""

from __future__ import annotations

import ast
import builtins
import inspect
import textwrap
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

from stackflow.definitions.jobs import WorkflowJob

_CALL_METHODS = ("trigger", "start")


def reachable_jobs(main_job: WorkflowJob) -> list[WorkflowJob]:
    """The main job and every job reachable from it through deps and triggered jobs."""
    found: dict[int, WorkflowJob] = {id(main_job): main_job}
    queue = deque([main_job])
    while queue:
        job = queue.popleft()
        for callee in (*job.deps, *triggered_jobs(job)):
            if id(callee) not in found:
                found[id(callee)] = callee
                queue.append(callee)
    return list(found.values())


def triggered_jobs(job: WorkflowJob) -> list[WorkflowJob]:
    """Jobs whose `.trigger(`/`.start(` is called on the job object in the body's source."""
    body = inspect.unwrap(job.body)
    tree = _parse_source(body)
    if tree is None:
        return []
    scope = _Scope(body)
    calls = sorted(_job_calls(tree, body), key=lambda call: (call.lineno, call.col_offset))
    found: dict[int, WorkflowJob] = {}
    for call in calls:
        target = scope.resolve(call.func.value) if isinstance(call.func, ast.Attribute) else None
        if isinstance(target, WorkflowJob):
            found.setdefault(id(target), target)
    return list(found.values())


def _parse_source(body: Callable[..., Any]) -> ast.AST | None:
    try:
        source = textwrap.dedent(inspect.getsource(body))
    except (OSError, TypeError):
        return None
    # A lambda's source is the lines it sits on, often a fragment of a call's arguments.
    for text in (source, f"(\n{source}\n)", f"_(\n{source}\n)"):
        try:
            return ast.parse(text)
        except SyntaxError:
            continue
    return None


def _job_calls(tree: ast.AST, body: Callable[..., Any]) -> Iterable[ast.Call]:
    roots: Iterable[ast.AST] = [tree]
    if getattr(body, "__name__", "") == "<lambda>":
        roots = [node for node in ast.walk(tree) if isinstance(node, ast.Lambda)]
    for root in roots:
        for node in ast.walk(root):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in _CALL_METHODS
            ):
                yield node


class _Scope:
    """The names a body sees: its closure, its module's globals, the builtins."""

    def __init__(self, body: Callable[..., Any]) -> None:
        self.names: dict[str, Any] = dict(vars(builtins))
        self.names.update(getattr(body, "__globals__", {}))
        self.names.update(_closure(body))

    def resolve(self, node: ast.expr) -> Any:
        """The object a name or dotted attribute expression refers to, or None."""
        if isinstance(node, ast.Name):
            return self.names.get(node.id)
        if isinstance(node, ast.Attribute):
            base = self.resolve(node.value)
            if base is None:
                return None
            try:
                return inspect.getattr_static(base, node.attr, None)
            except Exception:
                return None
        return None


def _closure(body: Callable[..., Any]) -> dict[str, Any]:
    code = getattr(body, "__code__", None)
    cells = getattr(body, "__closure__", None) or ()
    values: dict[str, Any] = {}
    for name, cell in zip(code.co_freevars if code else (), cells, strict=False):
        try:
            values[name] = cell.cell_contents
        except ValueError:
            continue
    return values

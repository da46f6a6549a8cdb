"""What job bodies call, read from their source: the jobs a workflow reaches, the deps named."""

from __future__ import annotations

import ast
import builtins
import inspect
import textwrap
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from stackflow.definitions.jobs import WorkflowJob

_CALL_METHODS = ("trigger", "start")
_MAX_NESTING = 4


@dataclass(frozen=True)
class DepReference:
    """`ctx.jobs.<name>` or `ctx.jobs["<name>"]` in a job's body, at a line of its file."""

    name: str
    line: int | None
    subscript: bool

    def __str__(self) -> str:
        return f"ctx.jobs[{self.name!r}]" if self.subscript else f"ctx.jobs.{self.name}"


@dataclass(frozen=True)
class _ParsedBody:
    """A body's syntax tree, and what to add to a line of the tree to get the file's line."""

    roots: list[ast.AST]
    line_offset: int | None

    def nodes(self) -> Iterable[ast.AST]:
        """Every node of the body (of each lambda, for a lambda's source lines)."""
        for root in self.roots:
            yield from ast.walk(root)

    def file_line(self, node: ast.AST) -> int | None:
        """The line of the body's file where `node` is."""
        return None if self.line_offset is None else self.line_offset + getattr(node, "lineno", 1)


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
    """Jobs whose `.trigger(`/`.start(` is called in the body's source: on a job object, or
    on an item of a list, tuple, set or dict of jobs the body can see (`JOBS[0].trigger()`,
    `for each in JOBS: each.trigger()`: then every job in it)."""
    body = inspect.unwrap(job.body)
    parsed = _parse_body(body)
    if parsed is None:
        return []
    scope = _Scope(body)
    calls = sorted(_job_calls(parsed), key=lambda call: (call.lineno, call.col_offset))
    found: dict[int, WorkflowJob] = {}
    unresolved = False
    for call in calls:
        targets = scope.jobs_in(call.func.value) if isinstance(call.func, ast.Attribute) else []
        unresolved = unresolved or not targets
        found.update((id(target), target) for target in targets)
    if unresolved:  # e.g. a loop variable: any job in a collection the body names may be it
        for name in _names(parsed):
            found.update((id(target), target) for target in _collected_jobs(scope.names.get(name)))
    return list(found.values())


def dep_references(job: WorkflowJob) -> list[DepReference]:
    """Each `ctx.jobs.<name>` / `ctx.jobs["<name>"]` in the body (`ctx`: its second parameter)."""
    body = inspect.unwrap(job.body)
    context = _context_parameter(body)
    parsed = _parse_body(body) if context else None
    if parsed is None:
        return []
    found = (_dep_reference(node, context, parsed) for node in parsed.nodes())
    return [reference for reference in found if reference is not None]


def _context_parameter(body: Callable[..., Any]) -> str | None:
    try:
        parameters = list(inspect.signature(body).parameters.values())
    except (TypeError, ValueError):
        return None
    return parameters[1].name if len(parameters) > 1 else None


def _dep_reference(node: ast.AST, context: str | None, parsed: _ParsedBody) -> DepReference | None:
    if not isinstance(node, ast.Attribute | ast.Subscript) or not _is_jobs(node.value, context):
        return None
    if isinstance(node, ast.Attribute):
        if node.attr.startswith("__"):
            return None
        return DepReference(node.attr, parsed.file_line(node), subscript=False)
    key = node.slice
    if not isinstance(key, ast.Constant) or not isinstance(key.value, str):
        return None  # a name computed at run time: only the run can tell
    return DepReference(key.value, parsed.file_line(node), subscript=True)


def _is_jobs(node: ast.expr, context: str | None) -> bool:
    """Whether `node` is `<context>.jobs`."""
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "jobs"
        and isinstance(node.value, ast.Name)
        and node.value.id == context
    )


def _names(parsed: _ParsedBody) -> list[str]:
    names = (node.id for node in parsed.nodes() if isinstance(node, ast.Name))
    return list(dict.fromkeys(names))


def _collected_jobs(value: Any, depth: int = 0) -> list[WorkflowJob]:
    """The jobs inside a list, tuple, set or dict (nested a few levels), in order."""
    if depth > _MAX_NESTING or not isinstance(value, list | tuple | set | frozenset | dict):
        return []
    items = value.values() if isinstance(value, dict) else value
    found: list[WorkflowJob] = []
    for item in items:
        found.extend([item] if isinstance(item, WorkflowJob) else _collected_jobs(item, depth + 1))
    return found


def _parse_body(body: Callable[..., Any]) -> _ParsedBody | None:
    try:
        lines, first = inspect.getsourcelines(body)
    except (OSError, TypeError):
        return None
    source = textwrap.dedent("".join(lines))
    # A lambda's source is the lines it sits on, often a fragment of a call's arguments.
    for text, added in ((source, 0), (f"(\n{source}\n)", 1), (f"_(\n{source}\n)", 1)):
        try:
            tree = ast.parse(text)
        except SyntaxError:
            continue
        roots: list[ast.AST] = [tree]
        if getattr(body, "__name__", "") == "<lambda>":
            roots = [node for node in ast.walk(tree) if isinstance(node, ast.Lambda)]
        return _ParsedBody(roots, first - 1 - added if first else None)
    return None


def _job_calls(parsed: _ParsedBody) -> Iterable[ast.Call]:
    for node in parsed.nodes():
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
        """The object a name, dotted attribute or constant subscript refers to, or None."""
        if isinstance(node, ast.Name):
            return self.names.get(node.id)
        base = self.resolve(node.value) if isinstance(node, ast.Attribute | ast.Subscript) else None
        if base is None:
            return None
        try:
            if isinstance(node, ast.Attribute):
                return inspect.getattr_static(base, node.attr, None)
            key = getattr(node, "slice", None)
            if isinstance(key, ast.Constant) and isinstance(base, list | tuple | dict):
                return _item(base, key.value)
        except Exception:
            return None
        return None

    def jobs_in(self, node: ast.expr) -> list[WorkflowJob]:
        """The jobs `node` may be: the job it names, or those of the collection it indexes."""
        value = self.resolve(node)
        if isinstance(value, WorkflowJob):
            return [value]
        if isinstance(node, ast.Subscript):
            return _collected_jobs(self.resolve(node.value))
        return []


def _item(container: Any, key: Any) -> Any:
    return container[key]


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

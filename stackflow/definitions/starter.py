"""The engine that serves code outside any engine: `workflow.trigger`, `wait_point.resolve`.

Definitions sit below the engine, so they cannot import it; the engine package
registers its project engine here when it is imported (as `import stackflow` does).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from stackflow.errors import StackflowError

if TYPE_CHECKING:
    from stackflow.definitions.workflows import Workflow
    from stackflow.records import Invoker


class ExecutionStarter(Protocol):
    """What definitions ask of an engine: start an execution, resolve a wait point."""

    def start(
        self, workflow: Workflow, arg: Any = None, *, invoker: str | Invoker | None = None
    ) -> str:
        """Create an execution and return its id."""
        ...

    def resolve(self, execution_id: str, wait_point: str, callback: Any = None) -> Any:
        """Resolve a wait point of a WAITING execution; return the stored value."""
        ...


_find_starter: list[Callable[[], ExecutionStarter]] = []


def register_starter(find: Callable[[], ExecutionStarter]) -> None:
    """Make `find()` the source of the engine for code outside any engine."""
    _find_starter[:] = [find]


def default_starter() -> ExecutionStarter:
    """The registered engine (the project found from the working directory)."""
    if not _find_starter:
        raise StackflowError("no engine is available: import stackflow to register one")
    return _find_starter[0]()

"""Wait points: a job parks its execution until someone resolves the wait from outside."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from stackflow.definitions.runner import current_runner
from stackflow.definitions.starter import ExecutionStarter, default_starter
from stackflow.errors import DefinitionError, StackflowError

KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")


class WaitPoint:
    """A named point where a job waits for an outside decision (an approval, say)."""

    def __init__(self, key: str) -> None:
        if not isinstance(key, str) or not KEY_PATTERN.match(key):
            raise DefinitionError(
                f"wait point key {key!r} is invalid: use 3-63 lowercase letters, digits and "
                "'-', starting and ending with a letter or digit (e.g. 'manager-approval')"
            )
        self.key = key

    def wait(self, payload: Any = None) -> Any:
        """Park the execution here (WAITING) until resolved; then return the resolved value."""
        runner = current_runner.get()
        if runner is None or not hasattr(runner, "wait_point"):
            raise StackflowError(
                f"wait point '{self.key}' can only be waited on inside a running job"
            )
        return runner.wait_point(self.key, payload)

    def resolve(
        self,
        execution_id: str,
        callback: Callable[[Any], Any] | None = None,
        *,
        engine: ExecutionStarter | None = None,
    ) -> Any:
        """Resolve the execution's wait here with `callback(payload)`; return that value."""
        if engine is None:
            engine = default_starter()
        return engine.resolve(execution_id, self.key, callback)

    def __repr__(self) -> str:
        return f"<WaitPoint {self.key!r}>"


def create_wait_point(key: str) -> WaitPoint:
    """Define a wait point; its key is 3-63 characters of [a-z0-9-]."""
    return WaitPoint(key)

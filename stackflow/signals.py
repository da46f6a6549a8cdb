"""Control-flow signals that unwind job bodies; user code must not swallow them."""

from __future__ import annotations


class Suspend(BaseException):
    """A job reached a wait point or a durable sleep: park the execution."""

    def __init__(self, wake_at_ms: int | None) -> None:
        super().__init__("the execution is waiting")
        self.wake_at_ms = wake_at_ms


class Canceled(BaseException):
    """The execution was canceled: nothing new starts."""

    def __init__(self) -> None:
        super().__init__("the execution was canceled")

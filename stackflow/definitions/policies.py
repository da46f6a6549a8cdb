"""Retry and concurrency policies, validated with the Tailor bounds."""

from __future__ import annotations

from dataclasses import dataclass

from stackflow.durations import parse_duration
from stackflow.errors import DefinitionError

MAX_INITIAL_BACKOFF_SECONDS = 3600.0
MAX_MAX_BACKOFF_SECONDS = 86400.0


@dataclass(frozen=True, init=False)
class RetryPolicy:
    """Retry a failed workflow (or job) with exponential backoff.

    `max_retries` 1-10; `initial_backoff` > 0 and at most 1 h; `max_backoff` at
    most 24 h and not below `initial_backoff`; `backoff_multiplier` >= 1.
    Durations are seconds or strings like "500ms", "3s", "1m".
    """

    max_retries: int
    initial_backoff_seconds: float
    max_backoff_seconds: float
    backoff_multiplier: float

    def __init__(
        self,
        max_retries: int = 3,
        initial_backoff: str | float = "1s",
        max_backoff: str | float = "30s",
        backoff_multiplier: float = 2.0,
    ) -> None:
        if isinstance(max_retries, bool) or not isinstance(max_retries, int):
            raise DefinitionError(
                f"RetryPolicy max_retries must be an integer, got {max_retries!r}"
            )
        if not 1 <= max_retries <= 10:
            raise DefinitionError(
                f"RetryPolicy max_retries must be between 1 and 10, got {max_retries}"
            )
        initial = _duration(initial_backoff, "initial_backoff")
        maximum = _duration(max_backoff, "max_backoff")
        if not 0 < initial <= MAX_INITIAL_BACKOFF_SECONDS:
            raise DefinitionError("RetryPolicy initial_backoff must be more than 0 and at most 1h")
        if maximum > MAX_MAX_BACKOFF_SECONDS:
            raise DefinitionError("RetryPolicy max_backoff must be at most 24h")
        if initial > maximum:
            raise DefinitionError("RetryPolicy initial_backoff must not exceed max_backoff")
        if isinstance(backoff_multiplier, bool) or not isinstance(backoff_multiplier, int | float):
            raise DefinitionError("RetryPolicy backoff_multiplier must be a number")
        if backoff_multiplier < 1:
            raise DefinitionError(
                f"RetryPolicy backoff_multiplier must be at least 1, got {backoff_multiplier}"
            )
        object.__setattr__(self, "max_retries", max_retries)
        object.__setattr__(self, "initial_backoff_seconds", initial)
        object.__setattr__(self, "max_backoff_seconds", maximum)
        object.__setattr__(self, "backoff_multiplier", float(backoff_multiplier))

    def backoff_seconds(self, retry: int) -> float:
        """The wait before retry number `retry` (1 for the first)."""
        grown = self.initial_backoff_seconds * self.backoff_multiplier ** (retry - 1)
        return min(grown, self.max_backoff_seconds)


def _duration(value: str | float, field: str) -> float:
    try:
        return parse_duration(value, name=f"RetryPolicy {field}")
    except ValueError as error:
        raise DefinitionError(str(error)) from None


@dataclass(frozen=True)
class ConcurrencyPolicy:
    """Cap the executions of one workflow that run at once (1-1000); the rest wait PENDING."""

    max_concurrent_executions: int

    def __post_init__(self) -> None:
        value = self.max_concurrent_executions
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 1000:
            raise DefinitionError(
                "ConcurrencyPolicy max_concurrent_executions must be an integer between 1 and "
                f"1000, got {value!r}"
            )


def check_retry_policy(owner: str, policy: object) -> RetryPolicy | None:
    """`policy` when it is a RetryPolicy or None; DefinitionError naming `owner` otherwise."""
    if policy is not None and not isinstance(policy, RetryPolicy):
        raise DefinitionError(f"retry_policy of {owner} must be a RetryPolicy, got {policy!r}")
    return policy

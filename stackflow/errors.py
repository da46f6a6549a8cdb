"""The exceptions stackflow raises, all rooted at StackflowError."""

from __future__ import annotations

from collections.abc import Iterable


class StackflowError(Exception):
    """A stackflow operation failed."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or (self.__doc__ or "").strip())


class DefinitionError(StackflowError, TypeError, ValueError):
    """A job or workflow definition breaks a rule."""


class ConfigError(StackflowError):
    """The project configuration could not be loaded."""


class ProjectLoadError(StackflowError):
    """The project's workflow files could not be loaded."""


class JsonValueError(StackflowError, TypeError):
    """A value crossing a job boundary is not JSON."""


class PayloadTooLarge(StackflowError):
    """A job's input or result is larger than the payload limit."""


class StackDepthExceeded(StackflowError):
    """Jobs called each other deeper than the stack depth limit."""


class JobFailed(StackflowError):
    """A child job failed; raised in the parent at the call site."""

    def __init__(
        self,
        job_name: str,
        error_type: str,
        error_message: str,
        *,
        stacked_job_name: str | None = None,
        traceback: str | None = None,
    ) -> None:
        self.job_name = job_name
        self.error_type = error_type
        self.error_message = error_message
        self.stacked_job_name = stacked_job_name or job_name
        self.traceback = traceback
        super().__init__(f"Job '{job_name}' failed: {error_type}: {error_message}")


class NonDeterminismError(StackflowError):
    """A replayed job made other calls than the ones recorded."""


class ExecutionNotFound(StackflowError):
    """No execution has this id."""

    def __init__(self, execution_id: str) -> None:
        self.execution_id = execution_id
        super().__init__(f"Execution '{execution_id}' not found.")


class NotResumable(StackflowError):
    """The execution is not in a state that can be resumed."""

    def __init__(self, execution_id: str, status: str | None = None) -> None:
        self.execution_id = execution_id
        self.status = status
        super().__init__(f"Execution '{execution_id}' is not in a resumable state.{_why(status)}")


_RESUME_HINTS = {
    "SUCCESS": "`stackflow workflow restart` runs it again as a new execution",
    "CANCELED": "`stackflow workflow restart` runs it again as a new execution",
    "WAITING": "it resumes by itself when its wait point is resolved or its sleep ends",
    "PENDING": "it is queued to run already",
    "RUNNING": "it is running already",
}


def _why(status: str | None) -> str:
    """Why an execution in `status` cannot be resumed, and what to do instead."""
    if status is None:
        return ""
    hint = _RESUME_HINTS.get(status)
    only = "only a FAILED or PENDING_RETRY execution can be resumed"
    return f" It is {status}: {only}" + (f"; {hint}." if hint else ".")


class NotRestartable(StackflowError):
    """The execution has not reached a final status, so it cannot be restarted."""

    def __init__(self, execution_id: str, status: str) -> None:
        self.execution_id = execution_id
        super().__init__(
            f"Execution '{execution_id}' is {status}: only a SUCCESS, FAILED or CANCELED "
            "execution can be restarted (cancel it first, or wait for it to end)."
        )


class UnknownJob(StackflowError):
    """No job execution of the execution has this stacked job name."""

    @classmethod
    def named(cls, name: str, execution_id: str, known: Iterable[str]) -> UnknownJob:
        """The one message for a stacked job name the execution never ran, listing its names."""
        listed = ", ".join(known) or "none"
        return cls(
            f"Unknown job '{name}' in execution '{execution_id}'. Its stacked job names: {listed}."
        )


class InvalidArgument(StackflowError, ValueError):
    """An execution's argument is not a JSON object."""


class ArgumentTooLarge(InvalidArgument, PayloadTooLarge):
    """An execution's argument is larger than the payload limit."""


class WaitTimeout(StackflowError, TimeoutError):
    """An execution did not finish within the time given to wait."""


class WaitPointError(StackflowError):
    """A wait point cannot be resolved: not waiting there, or already resolved."""


class NotCancelable(StackflowError):
    """The execution has already ended and cannot be canceled."""


class UnknownWorkflow(StackflowError):
    """No workflow has this name."""

    @classmethod
    def named(cls, name: str, known: Iterable[str]) -> UnknownWorkflow:
        """The one message for a workflow name nobody defined, listing the known ones."""
        listed = ", ".join(sorted(known)) or "none"
        return cls(f"Unknown workflow '{name}'. Known workflows: {listed}.")


class UnknownMachineUser(StackflowError):
    """No machine user has this name."""

    @classmethod
    def named(cls, name: str, known: Iterable[str]) -> UnknownMachineUser:
        """The one message for a machine user the project does not declare."""
        listed = ", ".join(sorted(known)) or "none are configured"
        return cls(
            f"Unknown machine user '{name}'. Known machine users: {listed} "
            "(declare one under [machine_users.<name>] in stackflow.toml)."
        )


class JobTimeout(StackflowError):
    """A job ran longer than its timeout."""


class StoreError(StackflowError):
    """The store cannot be used."""


class UnsupportedDatabase(StoreError, ConfigError):
    """The database URL names a backend stackflow does not have (a configuration error)."""


class DuplicateJobName(DefinitionError):
    """Two different jobs with one name (or one `ctx.jobs` attribute) meet in one deps list."""


class LeaseLost(BaseException):
    """This process no longer owns the execution; its writes are refused.

    A control-flow signal: it derives from BaseException so that job code
    catching Exception does not swallow it.
    """


class InvalidJobInput(StackflowError, ValueError):
    """A typed job's input does not fit the type its body declares."""


class InvalidJobResult(StackflowError, ValueError):
    """A typed job's result does not fit the type its body declares."""

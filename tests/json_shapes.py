"""The JSON shapes of DESIGN.md section 6, shared by the CLI and dashboard tests."""

EXECUTION_KEYS = {
    "id",
    "workflowName",
    "status",
    "jobExecutions",
    "startedAt",
    "finishedAt",
    "arg",
    "result",
    "error",
    "invoker",
}
# Present only where they apply: a restart, a WAITING execution's wait point or wake time.
OPTIONAL_EXECUTION_KEYS = {"restartedFrom", "waitingFor", "wakeAt"}
JOB_KEYS = {
    "id",
    "stackedJobName",
    "status",
    "executionId",
    "attempt",
    "startedAt",
    "finishedAt",
    "input",
    "logs",
    "result",
    "error",
}


def has_execution_keys(execution: dict[str, object]) -> bool:
    """The keys of section 6, plus only those optional keys that apply."""
    keys = set(execution)
    return keys >= EXECUTION_KEYS and keys - EXECUTION_KEYS <= OPTIONAL_EXECUTION_KEYS

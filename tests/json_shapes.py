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

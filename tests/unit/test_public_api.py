"""The public API is pinned: adding or removing a name is a deliberate change."""

from __future__ import annotations

import stackflow

PUBLIC_NAMES = [
    "ConcurrencyPolicy",
    "DefinitionError",
    "Engine",
    "Execution",
    "ExecutionNotFound",
    "ExecutionStatus",
    "JobContext",
    "JobExecution",
    "JobFailed",
    "JobHandle",
    "JobStatus",
    "JobTimeout",
    "NonDeterminismError",
    "NotCancelable",
    "NotResumable",
    "RetryPolicy",
    "Schedule",
    "StackflowError",
    "WaitPoint",
    "WaitPointError",
    "Webhook",
    "Workflow",
    "WorkflowJob",
    "create_schedule",
    "create_wait_point",
    "create_webhook",
    "create_workflow",
    "create_workflow_job",
    "workflow_job",
]


def test_all_is_pinned_and_sorted():
    assert stackflow.__all__ == PUBLIC_NAMES
    assert sorted(stackflow.__all__) == stackflow.__all__


def test_every_exported_name_exists_and_is_documented():
    for name in stackflow.__all__:
        member = getattr(stackflow, name)
        assert member.__doc__, f"{name} has no docstring"
        assert member.__module__.startswith("stackflow."), name


def test_statuses_compare_equal_to_their_names():
    assert stackflow.ExecutionStatus.SUCCESS == "SUCCESS"
    assert stackflow.JobStatus.SUSPEND == "SUSPEND"

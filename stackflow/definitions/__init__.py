"""What users write: jobs, workflows, JobContext, wait points, schedules, policies."""

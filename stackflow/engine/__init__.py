"""Running executions: the Engine, replay, execution and job runs, the worker, wake-ups."""

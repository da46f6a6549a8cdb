"""The web dashboard: a read-only view of executions, with resume and cancel."""

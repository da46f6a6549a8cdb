"""The soak: real workers killed and paused at random while executions run; then every check."""

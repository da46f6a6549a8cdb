"""`python -m stackflow` runs the CLI."""

from stackflow.cli.main import entry_point

entry_point()

"""The `stackflow` command line: one module per command group."""

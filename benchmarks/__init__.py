"""Benchmarks: stackflow against DBOS Transact and the physical floor."""

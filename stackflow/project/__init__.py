"""The project: stackflow.toml, loading its workflow files, the rules and reachability."""

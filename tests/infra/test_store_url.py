"""`store_url` runs a test once per backend, each with a fresh store."""

import pytest


def test_store_url_names_its_backend(store_url: str, request: pytest.FixtureRequest) -> None:
    backend = request.node.callspec.id
    scheme = {"sqlite": "sqlite:////", "postgres": "postgresql://"}[backend]
    assert store_url.startswith(scheme)
    assert (request.node.get_closest_marker("postgres") is not None) == (backend == "postgres")

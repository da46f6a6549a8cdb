"""TailorDB fixtures: a project on a fresh database (SQLite or PostgreSQL) with declared types."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tailordb_helpers import CUSTOMER_TYPES, MakeProject, write_project

from stackflow.tailordb import Db, get_db
from stackflow.tailordb.engines import dispose_engines
from stackflow.tailordb.runtime import forget_discovered


@pytest.fixture
def make_project(
    tmp_path: Path, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[MakeProject]:
    """Write a project on the test's database and point STACKFLOW_CONFIG at it."""

    def make(types: str = CUSTOMER_TYPES, **options: object) -> Path:
        config = write_project(tmp_path / "project", store_url, types, **options)  # type: ignore[arg-type]
        monkeypatch.setenv("STACKFLOW_CONFIG", str(config))
        forget_discovered()
        return config

    yield make
    forget_discovered()
    dispose_engines()


@pytest.fixture
def tdb(make_project: MakeProject) -> Db:
    """get_db("tailordb") of a project declaring Customer."""
    make_project()
    return get_db("tailordb")

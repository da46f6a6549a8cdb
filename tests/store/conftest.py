"""The `store` fixture: a fresh store of each backend (tests using it run on both)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from stackflow.store import open_store
from stackflow.store.base import Store


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    opened = open_store(store_url)
    yield opened
    opened.close()

"""Opening a store from its URL: `sqlite:///...` or `postgresql://...`."""

from __future__ import annotations

from stackflow.errors import StoreError
from stackflow.store.base import Store


def open_store(url: str, *, sqlite_synchronous: str = "NORMAL") -> Store:
    """Open (and migrate) the store at `url`; the backend follows the URL scheme."""
    if url.startswith("sqlite:"):
        from stackflow.store.sqlite import SqliteStore

        return SqliteStore(url, synchronous=sqlite_synchronous)
    if url.startswith(("postgresql:", "postgres:")):
        raise StoreError("PostgreSQL stores are not supported by this version of stackflow")
    scheme = url.split(":", 1)[0] if ":" in url else url
    raise StoreError(
        f"unsupported database URL scheme {scheme!r}: use sqlite:///path/to/state.db "
        "or postgresql://user@host/dbname"
    )

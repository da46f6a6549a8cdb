"""Opening a store from its URL: `sqlite:///...` or `postgresql://...`."""

from __future__ import annotations

from stackflow.errors import StoreError, UnsupportedDatabase
from stackflow.store.base import Store

POSTGRES_EXTRA_MESSAGE = (
    "PostgreSQL support needs the postgres extra: pip install 'stackflow[postgres]'"
)


def open_store(url: str, *, sqlite_synchronous: str = "NORMAL") -> Store:
    """Open (and migrate) the store at `url`; the backend follows the URL scheme."""
    if url.startswith("sqlite:"):
        from stackflow.store.sqlite import SqliteStore

        return SqliteStore(url, synchronous=sqlite_synchronous)
    if url.startswith(("postgresql:", "postgres:")):
        try:
            from stackflow.store.postgres import PostgresStore
        except ModuleNotFoundError as error:
            if (error.name or "").split(".")[0] not in ("psycopg", "psycopg_pool"):
                raise
            raise StoreError(POSTGRES_EXTRA_MESSAGE) from None
        return PostgresStore(url)
    scheme = url.split(":", 1)[0] if ":" in url else url
    raise UnsupportedDatabase(
        f"unsupported database URL scheme {scheme!r}: use sqlite:///path/to/state.db "
        "or postgresql://user@host/dbname"
    )

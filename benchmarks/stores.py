"""A throw-away store for a benchmark run: a temporary SQLite file, or a PostgreSQL schema of its own
on the local server, dropped afterwards so repeated runs never measure each other's rows."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from models.store import open_store

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@contextmanager
def scratch_store(database: str) -> Iterator[str]:
    """The URL of a new, migrated store (`database` is "sqlite" or "postgres")."""
    if database == "sqlite":
        url = f"sqlite:///{tempfile.mkdtemp()}/bench.db"
        open_store(url)
        yield url
        open_store(url).dispose()
        return
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(POSTGRES)
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = f"{POSTGRES}?options=-csearch_path%3D{schema}"
    try:
        open_store(url)
        yield url
    finally:
        open_store(url).dispose()
        with admin.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

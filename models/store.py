"""The store: engine creation and schema migrations, for SQLite and PostgreSQL alike.

Every command and flow opens the store through :func:`open_store`, which brings a fresh or
older database to the newest migration before anything else touches it, so a user never
has to remember ``ledgerflow db upgrade`` (it exists for operators who want it explicit).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(engine: sa.Engine | None = None) -> Config:
    """Alembic configuration pointing at our migrations; with an engine, migrations run on it."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if engine is not None:
        config.attributes["engine"] = engine
    return config


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    # Let the driver leave transactions to us: pysqlite's own BEGIN is DEFERRED, which lets two
    # writers read the same audit-chain head; BEGIN IMMEDIATE (in _sqlite_begin) takes the write
    # lock up front so the chain cannot fork.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin(connection: sa.Connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def create_engine(url: str) -> sa.Engine:
    """An engine for `url`; SQLite files get their folder created and safe locking."""
    sa_url = sa.make_url(url)
    if sa_url.get_backend_name() == "sqlite":
        if sa_url.database and sa_url.database != ":memory:":
            Path(sa_url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(sa_url)
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        sa.event.listen(engine, "begin", _sqlite_begin)
        return engine
    return sa.create_engine(sa_url, pool_pre_ping=True)


def current_revision(engine: sa.Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def upgrade(engine: sa.Engine) -> None:
    """Run every pending migration."""
    command.upgrade(alembic_config(engine), "head")


@cache
def open_store(url: str) -> sa.Engine:
    """The engine for `url`, migrated to the newest schema (once per process and URL)."""
    engine = create_engine(url)
    if current_revision(engine) != head_revision():
        upgrade(engine)
    return engine


def is_postgres(connection: sa.Connection | sa.Engine) -> bool:
    return connection.dialect.name == "postgresql"


def canonical_json(value: Any) -> str:
    """The one JSON spelling of a value that checksums are taken over."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def insert_rows(connection: sa.Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """Insert many rows fast: COPY on PostgreSQL, executemany elsewhere."""
    if not rows:
        return
    if not is_postgres(connection):
        connection.execute(table.insert(), rows)
        return
    columns = [c for c in table.columns if c.name in rows[0]]
    names = ", ".join(f'"{c.name}"' for c in columns)
    json_columns = {c.name for c in columns if isinstance(c.type, sa.JSON)}
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row(
                [
                    canonical_json(row[c.name]) if c.name in json_columns and row[c.name] is not None else row[c.name]
                    for c in columns
                ]
            )

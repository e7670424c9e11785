"""The store: migrations equal the table definitions, on both databases; CI never skips PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from models.store import current_revision, head_revision, open_store
from models.tables import ENTITIES, metadata


def test_migrations_create_exactly_the_tables_the_code_defines(database_url: str) -> None:
    engine = open_store(database_url)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), metadata)
    assert diff == []
    assert current_revision(engine) == head_revision()


def test_every_table_has_a_tenant_id() -> None:
    assert [name for name, table in metadata.tables.items() if "tenant_id" not in table.c] == []


def test_money_columns_are_numeric_with_two_decimals() -> None:
    invoice = ENTITIES["invoice"].table
    assert (invoice.c.total.type.precision, invoice.c.total.type.scale) == (18, 2)
    assert isinstance(ENTITIES["time_report"].table.c.date.type, sa.Date)
    assert isinstance(ENTITIES["invoice"].table.c.lines.type, sa.JSON)


def test_ci_fails_instead_of_skipping_when_postgres_is_unreachable(tmp_path: Path) -> None:
    env = os.environ | {"CI": "true", "LEDGERFLOW_TEST_POSTGRES_URL": "postgresql+psycopg://postgres@127.0.0.1:1/test"}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         f"{Path(__file__).parent / 'test_store.py'}::test_migrations_create_exactly_the_tables_the_code_defines"],
        env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 1, result.stdout
    assert "1 passed, 1 error" in result.stdout
    assert "CI=true and PostgreSQL" in result.stdout

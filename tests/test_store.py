"""The store: migrations equal the table definitions, on both databases; CI never skips PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from models.store import SCHEMA_REVISION, current_revision, head_revision, open_store
from models.tables import ENTITIES, metadata


def test_migrations_create_exactly_the_tables_the_code_defines(database_url: str) -> None:
    engine = open_store(database_url)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), metadata)
    assert diff == []
    assert current_revision(engine) == head_revision()


def test_the_schema_revision_every_command_checks_is_alembic_head() -> None:
    assert SCHEMA_REVISION == head_revision()  # a new migration moves SCHEMA_REVISION (models/store.py) with it


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
    assert "CI is set and PostgreSQL" in result.stdout


def test_a_command_that_wrote_to_sqlite_leaves_no_write_ahead_log(tmp_path: Path) -> None:
    """After `ledgerflow bank-import` ends, the .db file alone holds every row: the -wal file is gone or empty.

    The command runs in a process of its own, as a person runs it (no Prefect server).
    """
    import shutil
    import sqlite3

    from connectors.sandbox.bank import write_swedbank_company

    root = Path(__file__).resolve().parent.parent
    statement = write_swedbank_company(tmp_path / "Transaktionsrapport.csv", 3000)
    database = tmp_path / "ledgerflow.db"
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"} | {
        "PYTHONPATH": str(root), "LEDGERFLOW_DATABASE_URL": f"sqlite:///{database}", "LEDGERFLOW_TENANT": "acme",
        "LEDGERFLOW_KEY_FILE": str(tmp_path / "ledgerflow.key")}
    done = subprocess.run([sys.executable, "-m", "flows.cli", "bank-import", "--json", str(statement)], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert '"imported": 3000' in done.stdout
    wal = database.with_name(database.name + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0, f"{wal} holds {wal.stat().st_size:,} bytes"
    copy = tmp_path / "copy" / "ledgerflow.db"
    copy.parent.mkdir()
    shutil.copy(database, copy)  # the .db file alone, as a person copies a store
    with sqlite3.connect(copy) as connection:
        table = ENTITIES["bank_transaction"].table.name
        assert connection.execute(f"SELECT count(*) FROM {table}").fetchone() == (3000,)
    connection.close()


@pytest.mark.parametrize(("value", "ci"), [("true", True), ("1", True), ("yes", True), ("True", True), (" on ", True),
                                           ("", False), ("0", False), ("false", False), ("no", False)])
def test_any_true_spelling_of_ci_makes_it_a_ci_run(value: str, ci: bool) -> None:
    from conftest import in_ci

    assert in_ci({"CI": value}) is ci

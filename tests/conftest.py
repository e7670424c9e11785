"""Test fixtures: a fresh store on SQLite and on the real PostgreSQL, and one Prefect test server.

PostgreSQL is the server at 127.0.0.1:5432 (database ``test``, trust auth); each test gets a
schema of its own, dropped afterwards. Outside CI an unreachable server skips the
PostgreSQL half; with ``CI=true`` it fails the run instead, so a broken CI database can never
pass as green.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator

# Before Prefect is imported anywhere: a private Prefect home and no telemetry.
os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="ledgerflow-prefect-"))
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ["GX_ANALYTICS_ENABLED"] = "false"
os.environ["DO_NOT_TRACK"] = "1"

import pytest  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from models.store import open_store  # noqa: E402

POSTGRES_URL = os.environ.get("LEDGERFLOW_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def in_ci(environ: dict[str, str] | os._Environ[str] = os.environ) -> bool:
    """Whether this run is CI's: any true spelling of ``CI`` (GitHub's ``true``, but also ``1``, ``yes``, ``on``)."""
    return environ.get("CI", "").strip().lower() in {"1", "true", "yes", "on"}


def _postgres_reachable() -> str | None:
    try:
        with sa.create_engine(POSTGRES_URL).connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as error:
        return str(error).splitlines()[0]
    return None


@pytest.fixture(scope="session")
def postgres_server() -> str:
    problem = _postgres_reachable()
    if problem:
        if in_ci():
            pytest.fail(f"CI is set and PostgreSQL at {POSTGRES_URL} is unreachable: {problem}")
        pytest.skip(f"PostgreSQL unreachable: {problem}")
    return POSTGRES_URL


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """The URL of an empty, migrated store."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'ledgerflow.db'}"
        open_store(url)
        yield url
        open_store(url).dispose()
        return
    server = request.getfixturevalue("postgres_server")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server)
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = f"{server}?options=-csearch_path%3D{schema}"
    open_store(url)
    yield url
    open_store(url).dispose()
    with admin.begin() as connection:
        connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(scope="session")
def prefect_api() -> Iterator[str]:
    """Prefect's test server, started once for the session (it takes ~20 s) by the first test that
    records its runs; its API URL. Outside `prefect_runs` flows still run locally (tasks.runtime).

    Flow-run heartbeats are off: each run would otherwise wait up to a second for Prefect's
    heartbeat thread to wake (see tasks/runtime.py), and no test watches them.
    """
    from prefect.settings import (
        PREFECT_API_URL, PREFECT_FLOWS_HEARTBEAT_FREQUENCY, get_current_settings, temporary_settings,
    )
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120), \
            temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        url = get_current_settings().api.url
        assert url
        with temporary_settings(restore_defaults={PREFECT_API_URL}):
            yield url


@pytest.fixture
def prefect_runs(prefect_api: str) -> Iterator[str]:
    """Within the test, flows are recorded on the session's Prefect server (as on a worker or with
    `ledgerflow server` up): Prefect flow and task runs, artifacts, state hooks."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: prefect_api}):
        yield prefect_api


@pytest.fixture
def store_env(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run flows against `database_url` (flows read it from the environment, as in production)."""
    monkeypatch.setenv("LEDGERFLOW_DATABASE_URL", database_url)
    monkeypatch.setenv("LEDGERFLOW_TENANT", "acme")
    return database_url

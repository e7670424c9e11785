"""Hourly import: changed records of every connected system into the canonical store (seed 001).

Per tenant and dataset: read the cursor, list what changed since it (Fortnox
``lastmodified``), fetch whole records where lists are not enough, gate them with GX, map
and load idempotently, and move the cursor in the same transaction. A run with nothing new
makes one request per dataset. One dataset failing (Fortnox down, a revoked token) is logged
and the others go on; the run then ends failed so that it shows in the UI.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import asdict

from connectors import fortnox as fx
from connectors.http import ApiError
from flows.alerting import notify_failure
from flows.connections import fortnox_client
from flows.settings import Settings
from models.bookkeeping import get_cursor, log_sync
from models.integrations import connected
from models.store import open_store
from tasks.extract import fetch_fortnox_changes
from tasks.load import SyncReport, load_synced
from tasks.metrics import api_usage
from tasks.mapping.fortnox import DATASETS, map_fortnox
from tasks.quality import quality_gate_records
from tasks.runtime import flow, run_id, publish_table, run_logger

SYSTEMS = ("fortnox",)
CURSOR_OVERLAP = dt.timedelta(seconds=60)


class ImportFailed(RuntimeError):
    """Some datasets could not be imported; the others were."""


@flow(name="import_sync", on_failure=notify_failure)
def import_sync(tenant: str | None = None, system: str = "fortnox", datasets: list[str] | None = None) -> list[SyncReport]:
    """Import changed records from every connected integration (or one tenant's / one system's)."""
    if system not in SYSTEMS:
        raise ValueError(f"unknown system {system!r}; known: {', '.join(SYSTEMS)}")
    unknown = set(datasets or []) - set(DATASETS)
    if unknown:
        raise ValueError(f"unknown datasets {sorted(unknown)}; known: {', '.join(DATASETS)}")
    settings = Settings()
    engine = open_store(settings.database_url)
    logger = run_logger()
    flow_run_id = run_id()
    actor = f"import_sync/{flow_run_id}" if flow_run_id else "import_sync"
    with engine.connect() as connection:
        targets = connected(connection, system, tenant)
    if not targets:
        logger.warning("no connected %s integration%s; run `ledgerflow connect %s`", system,
                       f" for tenant {tenant}" if tenant else "", system)
    reports: list[SyncReport] = []
    for tenant_id, _ in targets:
        with fortnox_client(settings, engine, tenant_id) as client:
            for name in datasets or list(DATASETS):
                reports.append(_sync_dataset(settings, client, tenant_id, name, actor, flow_run_id))
    publish_table(
        key=f"import-sync-{re.sub(r'[^a-z0-9-]+', '-', system)}",
        table=[asdict(r) for r in reports],
        description="Import sync: records listed as changed, held back, dead-lettered, inserted, updated and "
        "unchanged per tenant and dataset",
    )
    failed = [r for r in reports if r.status == "failed"]
    if failed:
        raise ImportFailed("; ".join(f"{r.tenant}/{r.dataset}: {r.error}" for r in failed))
    return reports


def _sync_dataset(
    settings: Settings, client: fx.FortnoxClient, tenant_id: str, name: str, actor: str, flow_run_id: str | None
) -> SyncReport:
    dataset = DATASETS[name]
    engine = open_store(settings.database_url)
    with engine.connect() as connection:
        cursor = get_cursor(connection, tenant_id, "fortnox", name)
    since = dt.datetime.fromisoformat(cursor) if cursor else None
    # The next cursor: what changes from now on is the next run's. The overlap absorbs clock skew
    # between us and the server; what it brings again is unchanged and writes nothing.
    started = dt.datetime.now(dt.UTC) - CURSOR_OVERLAP
    usage = api_usage()
    usage.take()  # what the dataset costs from here on
    try:
        fetched = fetch_fortnox_changes(client, dataset, since)
    except ApiError as error:
        run_logger().error("%s %s: %s", tenant_id, name, error)
        with engine.begin() as connection:
            log_sync(connection, tenant_id, "fortnox", dataset.entity_type, "failed", 0, error_message=str(error),
                     flow_run_id=flow_run_id, details={"dataset": name, "api": usage.take()})
        return SyncReport(tenant_id, "fortnox", name, 0, 0, 0, 0, 0, 0, 0, "failed", str(error))
    gate = quality_gate_records(fetched.records, f"fortnox_{name}")
    mapped = map_fortnox(dataset, gate.passed)
    return load_synced(settings.database_url, tenant_id, dataset, fetched, mapped, gate.quarantined,
                       started.isoformat(), actor, flow_run_id, usage.take())


if __name__ == "__main__":
    import_sync()

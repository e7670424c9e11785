"""On-demand export of canonical customers and invoices to Fortnox (seed 001: export on demand, incremental).

Only what Fortnox has not seen in its current state is sent; see `tasks.export` for how a
re-run after a crash avoids duplicates and where refused records go.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict

from flows.alerting import notify_failure
from flows.connections import fortnox_client
from flows.settings import Settings
from models.exports import due_for_export
from models.integrations import connected
from models.store import open_store
from models.tables import ENTITIES
from tasks.export import TARGETS, ExportReport, export_to_fortnox
from tasks.runtime import flow, publish_table, run_id

ENTITY_ORDER = ("customer", "invoice")  # an invoice needs its customer there first


@flow(name="export", on_failure=notify_failure)
def export(
    system: str = "fortnox",
    entities: list[str] | None = None,
    tenant: str | None = None,
    since: dt.datetime | None = None,
    local_ids: list[str] | None = None,
) -> list[ExportReport]:
    """Send due customers and invoices (or the given ones) to every connected tenant's Fortnox."""
    if system != "fortnox":
        raise ValueError(f"export to {system!r} is not supported; supported: fortnox")
    chosen = [e for e in ENTITY_ORDER if e in (entities or ENTITY_ORDER)]
    unknown = set(entities or []) - set(TARGETS)
    if unknown:
        raise ValueError(f"cannot export {sorted(unknown)}; exportable: {', '.join(TARGETS)}")
    settings = Settings()
    engine = open_store(settings.database_url)
    actor = f"export/{run_id()}"
    with engine.connect() as connection:
        targets = connected(connection, system, tenant)
    reports: list[ExportReport] = []
    for tenant_id, _ in targets:
        with fortnox_client(settings, engine, tenant_id) as client:
            for entity_type in chosen:
                with engine.connect() as connection:
                    due = due_for_export(connection, ENTITIES[entity_type], tenant_id, system, since, local_ids)
                reports.append(export_to_fortnox(client, settings.database_url, tenant_id, entity_type, due, actor))
    publish_table(
        key=f"export-{system}",
        table=[{k: v for k, v in asdict(r).items() if k != "failed_ids"} for r in reports],
        description="Export: records due, created, updated, found already created, and refused (dead letters)",
    )
    return reports


if __name__ == "__main__":
    export()

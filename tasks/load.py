"""Load: one database transaction per batch, holding the records, the held-back rows, the
file's mark or the cursor, the sync log line and the audit events together."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import asdict, dataclass

from prefect import task
from prefect.cache_policies import NO_CACHE
import sqlalchemy as sa
from pydantic import BaseModel

from connectors.workcloud import ExportFile, RowProblem
from models.audit import AuditRecorder
from models.bookkeeping import (
    QuarantineRow,
    add_dead_letters,
    add_to_quarantine,
    log_sync,
    record_source_file,
    set_cursor,
)
from models.store import gc_paused, open_store
from models.tables import ENTITIES, Entity
from models.upsert import LoadCounts, upsert_in_chunks
from tasks.extract import Fetched
from tasks.mapping.batch import Mapped
from tasks.mapping.fortnox import Dataset
from tasks.quality import Issue

WORKCLOUD_ENTITIES = {"projects": "project", "work_orders": "work_order", "time_reports": "time_report"}


@dataclass(frozen=True)
class FileReport:
    """What happened to one file: the counts per step of the run's artifact."""

    file: str
    kind: str | None
    read: int
    quarantined: int
    inserted: int
    updated: int
    unchanged: int
    warnings: int
    status: str  # loaded | partial | failed | skipped
    error: str | None = None


def _quarantine_rows(source_ref: str, issues: list[Issue], problems: list[RowProblem]) -> list[QuarantineRow]:
    rows = [QuarantineRow(source_ref, i.line, i.record, i.code, i.field, i.description, i.suggested_action) for i in issues]
    rows += [
        QuarantineRow(source_ref, p.line, {"cells": p.cells}, p.code, p.field, p.description, p.suggested_action)
        for p in problems
    ]
    return rows


@task(name="load-workcloud-export", cache_policy=NO_CACHE)
def load_workcloud_export(
    database_url: str,
    tenant_id: str,
    export: ExportFile,
    records: list[tuple[str, BaseModel]],
    issues: list[Issue],
    warnings: int,
    actor: str,
    flow_run_id: str | None = None,
) -> FileReport:
    """Upsert one export's records and keep its bookkeeping, all in one transaction."""
    started = time.monotonic()
    now = dt.datetime.now(dt.UTC)
    name = export.path.name
    with open_store(database_url).begin() as connection:
        if export.error or export.kind is None:
            record_source_file(connection, tenant_id, "workcloud", name, export.sha256, kind=None, row_count=None,
                               status="failed", error=export.error, now=now)
            log_sync(connection, tenant_id, "workcloud", "unknown", "failed", 0, error_message=export.error,
                     flow_run_id=flow_run_id, details={"file": name})
            return FileReport(name, None, 0, 0, 0, 0, 0, 0, "failed", export.error)
        entity = ENTITIES[WORKCLOUD_ENTITIES[export.kind]]
        quarantine_rows = _quarantine_rows(name, issues, export.problems)
        counts = _load(connection, Batch(tenant_id, "workcloud", entity, f"workcloud_{export.kind}", actor,
                                         flow_run_id, now), records, quarantine_rows)
        held_back = len({row.row_number for row in quarantine_rows})
        read = len(export.frame) + len(export.problems)
        record_source_file(connection, tenant_id, "workcloud", name, export.sha256, kind=str(export.kind),
                           row_count=read, status="loaded", now=now)
        log_sync(connection, tenant_id, "workcloud", entity.entity_type, "partial" if held_back else "success",
                 counts.inserted + counts.updated + counts.unchanged,
                 duration_ms=int((time.monotonic() - started) * 1000), flow_run_id=flow_run_id,
                 details={"file": name, "quarantined": held_back, **asdict(counts)})
    return FileReport(name, str(export.kind), read, held_back, counts.inserted, counts.updated, counts.unchanged,
                      warnings, "partial" if held_back else "loaded")


@dataclass(frozen=True)
class SyncReport:
    """What one import of one dataset did: the counts of the run's artifact and sync log."""

    tenant: str
    system: str
    dataset: str
    listed: int
    quarantined: int
    dead_letters: int
    inserted: int
    updated: int
    unchanged: int
    conflicts: int
    status: str  # success | partial | failed
    error: str | None = None


@task(name="load-fortnox-dataset", cache_policy=NO_CACHE)
def load_synced(
    database_url: str,
    tenant_id: str,
    dataset: Dataset,
    fetched: Fetched,
    mapped: Mapped,
    issues: list[Issue],
    cursor: str,
    actor: str,
    flow_run_id: str | None = None,
) -> SyncReport:
    """Load one dataset's changes, its held-back records, dead letters, log line and new cursor together.

    The cursor moves only with the data it covers: a failed load leaves it where it was.
    """
    started = time.monotonic()
    now = dt.datetime.now(dt.UTC)
    ref = f"fortnox:{dataset.resource.path}"
    id_key = dataset.resource.id_field
    quarantine_rows = [
        QuarantineRow(f"{ref}/{i.record.get(id_key)}", None, i.record, i.code, i.field, i.description, i.suggested_action)
        for i in issues + mapped.issues
    ]
    with open_store(database_url).begin() as connection:
        entity = ENTITIES[dataset.entity_type]
        counts = _load(connection, Batch(tenant_id, "fortnox", entity, f"fortnox_{dataset.name}", actor,
                                         flow_run_id, now), mapped.records, quarantine_rows)
        add_dead_letters(connection, tenant_id, "fortnox", fetched.dead_letters)
        held_back = len({row.source_ref for row in quarantine_rows})
        status = "partial" if held_back or fetched.dead_letters else "success"
        set_cursor(connection, tenant_id, "fortnox", dataset.name, cursor)
        log_sync(connection, tenant_id, "fortnox", dataset.entity_type, status, counts.inserted + counts.updated
                 + counts.unchanged, duration_ms=int((time.monotonic() - started) * 1000), flow_run_id=flow_run_id,
                 details={"dataset": dataset.name, "listed": fetched.listed, "quarantined": held_back,
                          "dead_letters": len(fetched.dead_letters), "cursor": cursor, **asdict(counts)})
    return SyncReport(tenant_id, "fortnox", dataset.name, fetched.listed, held_back, len(fetched.dead_letters),
                      counts.inserted, counts.updated, counts.unchanged, counts.conflicts, status)


@dataclass(frozen=True)
class Batch:
    """Where a batch goes and who writes it."""

    tenant_id: str
    system: str
    entity: Entity
    dataset: str
    actor: str
    flow_run_id: str | None
    now: dt.datetime


def _load(
    connection: sa.Connection, batch: Batch, records: list[tuple[str, BaseModel]], quarantine_rows: list[QuarantineRow]
) -> LoadCounts:
    """Upsert, quarantine and audit one batch inside the caller's transaction; the records go in
    chunks, so a large file does not need memory in proportion to its size."""
    audit = AuditRecorder(batch.tenant_id, batch.actor)
    with gc_paused():
        counts = upsert_in_chunks(connection, batch.entity, batch.tenant_id, batch.system, records, audit, batch.now)
    add_to_quarantine(connection, batch.tenant_id, batch.system, batch.dataset, quarantine_rows, batch.flow_run_id,
                      batch.now)
    return counts

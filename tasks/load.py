"""Load: one database transaction per batch, holding the records, the held-back rows, the
file's mark, the sync log line and the audit events together."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

from prefect import task
from prefect.cache_policies import NO_CACHE
from pydantic import BaseModel

from connectors.workcloud import ExportFile, RowProblem
from models.audit import AuditRecorder
from models.bookkeeping import QuarantineRow, add_to_quarantine, log_sync, record_source_file
from models.store import open_store
from models.tables import ENTITIES
from models.upsert import LoadCounts, upsert
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
        audit = AuditRecorder(tenant_id, actor)
        counts: LoadCounts = upsert(connection, entity, tenant_id, "workcloud", records, audit, now)
        quarantine_rows = _quarantine_rows(name, issues, export.problems)
        add_to_quarantine(connection, tenant_id, "workcloud", f"workcloud_{export.kind}", quarantine_rows,
                          flow_run_id, now)
        held_back = len({row.row_number for row in quarantine_rows})
        read = len(export.frame) + len(export.problems)
        record_source_file(connection, tenant_id, "workcloud", name, export.sha256, kind=str(export.kind),
                           row_count=read, status="loaded", now=now)
        status = "partial" if held_back else "loaded"
        log_sync(connection, tenant_id, "workcloud", entity.entity_type, "partial" if held_back else "success",
                 counts.inserted + counts.updated + counts.unchanged,
                 duration_ms=int((time.monotonic() - started) * 1000), flow_run_id=flow_run_id,
                 details={"file": name, "quarantined": held_back, "inserted": counts.inserted,
                          "updated": counts.updated, "unchanged": counts.unchanged})
        audit.flush(connection)
    return FileReport(name, str(export.kind), read, held_back, counts.inserted, counts.updated, counts.unchanged,
                      warnings, status)

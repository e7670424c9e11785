"""Load: one database transaction per batch, holding the records, the held-back rows, the
file's mark or the cursor, the sync log line and the audit events together."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from tasks.runtime import task
import sqlalchemy as sa
from pydantic import BaseModel

from connectors.banks import RowMessage, Statement
from connectors.workcloud import ExportFile, RowProblem
from models.audit import AuditRecorder
from models.bookkeeping import (
    QuarantineRow,
    add_dead_letters,
    add_to_quarantine,
    log_sync,
    record_source_file,
    resolve_reloaded,
    set_cursor,
)
from models.store import gc_paused, is_postgres, open_store
from models.tables import ENTITIES, Entity, bank_imports
from models.upsert import (
    LOAD_CHUNK, Known, LoadCounts, Spelled, spelled, stored_records, upsert_chunks, upsert_in_chunks,
)
from tasks import progress
from tasks.extract import Fetched
from tasks.mapping.bank import as_distinct, canonical_transactions
from tasks.mapping.batch import Mapped, MappedStream
from tasks.mapping.fortnox import Dataset
from tasks.quality import Issue, check_records

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


@task(name="load-workcloud-export")
def load_workcloud_export(
    database_url: str,
    tenant_id: str,
    export: ExportFile,
    mapped: MappedStream,
    issues: list[Issue],
    warnings: int,
    actor: str,
    flow_run_id: str | None = None,
) -> FileReport:
    """Upsert one export's records and keep its bookkeeping, all in one transaction.

    The records are stored chunk by chunk as the mapping's workers validate them; `issues` are
    the quality gate's, to which the mapping's own are added as they come."""
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
        issues = list(issues)

        def chunks() -> Iterator[list[Spelled]]:
            for chunk in mapped.chunks:
                issues.extend(chunk.issues)
                yield chunk.records

        batch = Batch(tenant_id, "workcloud", entity, f"workcloud_{export.kind}", actor, flow_run_id, now)
        existing = stored_records(connection, entity, tenant_id, "workcloud", mapped.external_ids)
        audit, on_chunk = _recorders(batch, len(mapped.external_ids) - len(mapped.held_back))
        try:
            with gc_paused():
                counts = upsert_chunks(connection, entity, tenant_id, "workcloud", chunks(), audit, existing, now,
                                       on_chunk)
        finally:  # a load that fails stops the validation of the chunks no worker has begun
            mapped.close()
        quarantine_rows = _quarantine_rows(name, issues, export.problems)
        add_to_quarantine(connection, tenant_id, "workcloud", batch.dataset, quarantine_rows, flow_run_id, now)
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


@task(name="load-fortnox-dataset")
def load_synced(
    database_url: str,
    tenant_id: str,
    dataset: Dataset,
    fetched: Fetched,
    mapped: Mapped[tuple[str, BaseModel]],
    issues: list[Issue],
    cursor: str,
    actor: str,
    flow_run_id: str | None = None,
    api: dict[str, Any] | None = None,
) -> SyncReport:
    """Load one dataset's changes, its held-back records, dead letters, log line and new cursor together.

    The cursor moves only with the data it covers: a failed load leaves it where it was. `api` is
    what the fetch cost in requests (`tasks.metrics.ApiUsage.take`); the log line keeps it for
    the metrics.
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
                                         flow_run_id, now), spelled(mapped.records), quarantine_rows)
        reloaded = resolve_reloaded(connection, tenant_id, f"fortnox_{dataset.name}",
                                    {f"{ref}/{external_id}" for external_id, _ in mapped.records}, actor)
        add_dead_letters(connection, tenant_id, "fortnox", fetched.dead_letters)
        held_back = len({row.source_ref for row in quarantine_rows})
        status = "partial" if held_back or fetched.dead_letters else "success"
        set_cursor(connection, tenant_id, "fortnox", dataset.name, cursor)
        log_sync(connection, tenant_id, "fortnox", dataset.entity_type, status, counts.inserted + counts.updated
                 + counts.unchanged, duration_ms=int((time.monotonic() - started) * 1000), flow_run_id=flow_run_id,
                 details={"dataset": dataset.name, "listed": fetched.listed, "quarantined": held_back,
                          "dead_letters": len(fetched.dead_letters), "released_from_quarantine": reloaded,
                          "cursor": cursor, "api": api or {},
                          **asdict(counts)})
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
    connection: sa.Connection, batch: Batch, records: list[Spelled], quarantine_rows: list[QuarantineRow],
    *, report_progress: bool = True, existing: dict[str, Known] | None = None,
) -> LoadCounts:
    """Upsert, quarantine and audit one batch inside the caller's transaction; the records go in
    chunks, so a large file does not need memory in proportion to its size. The progress of
    storing is reported per chunk unless the caller reports it itself; `existing` is what the
    caller has already looked up of the records (``models.upsert.upsert_in_chunks``)."""
    audit, on_chunk = _recorders(batch, len(records), report_progress)
    with gc_paused():
        counts = upsert_in_chunks(connection, batch.entity, batch.tenant_id, batch.system, records, audit, batch.now,
                                  on_chunk=on_chunk, existing=existing)
    add_to_quarantine(connection, batch.tenant_id, batch.system, batch.dataset, quarantine_rows, batch.flow_run_id,
                      batch.now)
    return counts


def _recorders(batch: Batch, total: int, report_progress: bool = True
               ) -> tuple[AuditRecorder, Callable[[int], None] | None]:
    """A load's audit recorder, and what reports the progress of storing `total` records (none
    when the caller reports it itself)."""
    on_chunk = (lambda done: progress.report("sparar", done, total)) if report_progress else None
    return AuditRecorder(batch.tenant_id, batch.actor), on_chunk


@dataclass(frozen=True)
class BankImportReport:
    """Seed 004 §6.3 for one file; `as_json` is the `--json` object."""

    file: str
    bank: str | None
    format: str | None
    rows: int
    imported: int
    duplicates: int
    errors: list[dict[str, Any]]
    warnings: list[dict[str, Any]]
    income_total: str
    expense_total: str
    net_total: str
    income_count: int
    expense_count: int
    file_error: bool = False

    def as_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if k != "file_error"}


def _messages(messages: list[RowMessage]) -> list[dict[str, Any]]:
    return [{"row": m.row, "code": m.code, "message": m.message} for m in messages]


@task(name="load-bank-statement")
def load_bank_statement(
    database_url: str,
    tenant_id: str,
    statement: Statement,
    account: str | None,
    actor: str,
    *,
    dry_run: bool = False,
    allow_duplicates: bool = False,
    flow_run_id: str | None = None,
) -> BankImportReport:
    """Store a statement's new booked rows and its import-log row (seed 004 §6.4) in one transaction.

    What is stored already for the account (the duplicate rule, `tasks.mapping.bank`) is counted,
    not stored again, unless `allow_duplicates`. A dry run reads the store and writes nothing.
    The rows go a chunk at a time, each chunk stored under its own moment, so that each chunk's
    audit event covers exactly the rows created at its moment (``models.upsert``).
    """
    errors = _messages([statement.file_error] if statement.file_error else statement.errors)
    warnings = _messages(statement.warnings)
    account_id = account or statement.account or str(statement.bank or "unknown")
    entity, system = ENTITIES["bank_transaction"], str(statement.bank or "other")
    chunks = canonical_transactions(statement, account_id, LOAD_CHUNK) if not statement.file_error else iter(())
    new_amounts: list[Decimal] = []
    duplicates = done = 0
    progress.report("kontrollerar", 0, statement.rows)
    # The cyclic GC paused for the whole file: GX and the records allocate millions of objects
    # while a hundred thousand statement rows are alive, and each full collection walks them all.
    with gc_paused(), open_store(database_url).begin() as connection:
        for_copy = is_postgres(connection)  # the new rows then go to COPY as lines of text
        for keyed in chunks:
            gate = check_records([k.transaction for k in keyed], "bank_transactions", by_alias=False)
            passed = {id(t) for t in gate.passed}
            errors += [{"row": i.record.get("source_row"), "code": i.code, "message": i.description}
                       for i in gate.quarantined]
            candidates = [k for k in keyed if id(k.transaction) in passed]
            stored = stored_records(connection, entity, tenant_id, system, [k.external_id for k in candidates])
            if allow_duplicates:
                candidates = [as_distinct(k, statement) if k.external_id in stored else k for k in candidates]
                stored = stored_records(connection, entity, tenant_id, system, [k.external_id for k in candidates])
            new = [k for k in candidates if k.external_id not in stored]
            duplicates += len(candidates) - len(new)
            new_amounts += [k.transaction.amount for k in new]
            if not dry_run:
                batch = Batch(tenant_id, system, entity, "bank_transactions", actor, flow_run_id, dt.datetime.now(dt.UTC))
                _load(connection, batch, spelled([(k.external_id, k.transaction) for k in new], for_copy=for_copy), [],
                      report_progress=False, existing=stored)
            done += len(keyed)
            progress.report("sparar", done, statement.rows)
        if not dry_run:
            connection.execute(bank_imports.insert().values(
                id=str(uuid.uuid4()), tenant_id=tenant_id, imported_at=dt.datetime.now(dt.UTC),
                file_name=statement.file_name, file_size=statement.size, sha256=statement.sha256, bank=statement.bank,
                format=statement.format, account=account_id, rows=statement.rows, imported=len(new_amounts),
                duplicates=duplicates, error_count=len(errors), errors=errors, warnings=warnings,
                flow_run_id=flow_run_id,
            ))
    income = [amount for amount in new_amounts if amount > 0]
    expense = [amount for amount in new_amounts if amount < 0]
    return BankImportReport(
        statement.file_name, statement.bank, statement.format, statement.rows, len(new_amounts), duplicates,
        errors, warnings, _total(income), _total(expense), _total(income + expense), len(income), len(expense),
        file_error=statement.file_error is not None,
    )


def _total(amounts: list[Decimal]) -> str:
    return format(sum(amounts, Decimal("0.00")), "f")

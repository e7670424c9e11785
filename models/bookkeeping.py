"""Writes to the bookkeeping tables: quarantine, source files, sync logs, cursors and dead letters.

They are called inside a load transaction, so a batch's rows, its held-back rows, the mark
that its file was read and its log line commit together or not at all.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from models.store import canonical_json, is_postgres
from models.tables import dead_letters, quarantine, source_files, sync_logs, sync_state


@dataclass(frozen=True)
class QuarantineRow:
    """A held-back record and why (INT-01-VAL-003)."""

    source_ref: str
    row_number: int | None
    record: dict[str, Any]
    error_code: str
    field: str
    description: str
    suggested_action: str


def add_to_quarantine(
    connection: sa.Connection,
    tenant_id: str,
    system: str,
    dataset: str,
    rows: Iterable[QuarantineRow],
    flow_run_id: str | None = None,
    now: dt.datetime | None = None,
) -> int:
    """Quarantine rows; the same record with the same error is held once, however often it arrives."""
    now = now or dt.datetime.now(dt.UTC)
    values = [
        {
            "id": str(uuid.uuid4()), "tenant_id": tenant_id, "system": system, "dataset": dataset,
            "source_ref": row.source_ref, "row_number": row.row_number, "record": row.record,
            "record_hash": hashlib.sha256(canonical_json(row.record).encode()).hexdigest(),
            "error_code": row.error_code, "field": row.field, "description": row.description,
            "suggested_action": row.suggested_action, "status": "open", "flow_run_id": flow_run_id, "created_at": now,
        }
        for row in rows
    ]
    if not values:
        return 0
    insert = (postgresql.insert if is_postgres(connection) else sqlite.insert)(quarantine)
    statement = insert.on_conflict_do_nothing(
        index_elements=["tenant_id", "dataset", "record_hash", "error_code", "field"]
    )
    return sum(connection.execute(statement, [v]).rowcount for v in values)


def quarantined_rows(
    connection: sa.Connection, tenant_id: str, *, status: str | None = "open", dataset: str | None = None
) -> list[sa.Row[Any]]:
    """The tenant's quarantined records, oldest first (all statuses when `status` is None)."""
    query = sa.select(quarantine).where(quarantine.c.tenant_id == tenant_id)
    if status:
        query = query.where(quarantine.c.status == status)
    if dataset:
        query = query.where(quarantine.c.dataset == dataset)
    return list(connection.execute(query.order_by(quarantine.c.created_at, quarantine.c.source_ref,
                                                  quarantine.c.row_number)))


def find_quarantined(connection: sa.Connection, tenant_id: str, id_prefix: str) -> sa.Row[Any]:
    """The tenant's quarantined record whose id starts with `id_prefix`."""
    return _by_id_prefix(connection, quarantine, "quarantined record", id_prefix, quarantine.c.tenant_id == tenant_id)


def resolve_quarantined(
    connection: sa.Connection,
    tenant_id: str,
    resolution: str,
    resolved_by: str,
    *,
    ids: Iterable[str] | None = None,
    dataset: str | None = None,
) -> int:
    """Close the tenant's open quarantine entries, by id or every one of a dataset; returns how many."""
    if ids is None and dataset is None:
        raise ValueError("name the quarantined records (ids) or their dataset")
    where = [quarantine.c.tenant_id == tenant_id, quarantine.c.status == "open"]
    if ids is not None:
        where.append(quarantine.c.id.in_(list(ids)))
    if dataset is not None:
        where.append(quarantine.c.dataset == dataset)
    return _resolve(connection, quarantine, resolution, resolved_by, *where)


def resolve_reloaded(
    connection: sa.Connection, tenant_id: str, dataset: str, loaded_refs: Collection[str], resolved_by: str
) -> int:
    """Close the open quarantine entries of a dataset's records that have loaded since (their
    ``source_ref`` is among `loaded_refs`): the source was corrected, so nothing is left to do."""
    held = connection.execute(sa.select(quarantine.c.id, quarantine.c.source_ref).where(
        quarantine.c.tenant_id == tenant_id, quarantine.c.dataset == dataset, quarantine.c.status == "open"))
    ids = [row.id for row in held if row.source_ref in loaded_refs]
    return resolve_quarantined(connection, tenant_id, "reloaded", resolved_by, ids=ids) if ids else 0


def loaded_file_hashes(connection: sa.Connection, tenant_id: str, system: str) -> set[str]:
    """SHA-256 of every file of `system` already loaded for the tenant."""
    return set(
        connection.execute(
            sa.select(source_files.c.sha256).where(
                source_files.c.tenant_id == tenant_id,
                source_files.c.system == system,
                source_files.c.status == "loaded",
            )
        ).scalars()
    )


def record_source_file(
    connection: sa.Connection,
    tenant_id: str,
    system: str,
    file_name: str,
    sha256: str,
    *,
    kind: str | None,
    row_count: int | None,
    status: str,
    error: str | None = None,
    now: dt.datetime | None = None,
) -> None:
    """Mark a file as read (`loaded`) or unreadable (`failed`); a failed file may be retried."""
    now = now or dt.datetime.now(dt.UTC)
    key = (source_files.c.tenant_id == tenant_id) & (source_files.c.system == system) & (source_files.c.sha256 == sha256)
    values = {"file_name": file_name, "kind": kind, "row_count": row_count, "status": status, "error": error,
              "ingested_at": now}
    if connection.execute(source_files.update().where(key).values(values)).rowcount == 0:
        connection.execute(
            source_files.insert().values(id=str(uuid.uuid4()), tenant_id=tenant_id, system=system, sha256=sha256, **values)
        )


def log_sync(
    connection: sa.Connection,
    tenant_id: str,
    system: str,
    data_type: str,
    status: str,
    record_count: int,
    *,
    sync_type: str = "import",
    duration_ms: int | None = None,
    error_message: str | None = None,
    flow_run_id: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    connection.execute(
        sync_logs.insert().values(
            id=str(uuid.uuid4()), tenant_id=tenant_id, system=system, sync_type=sync_type, data_type=data_type,
            status=status, record_count=record_count, duration_ms=duration_ms, error_message=error_message,
            flow_run_id=flow_run_id, details=details or {}, created_at=dt.datetime.now(dt.UTC),
        )
    )


def get_cursor(connection: sa.Connection, tenant_id: str, system: str, resource: str) -> str | None:
    return connection.execute(
        sa.select(sync_state.c.cursor).where(
            sync_state.c.tenant_id == tenant_id, sync_state.c.system == system, sync_state.c.resource == resource
        )
    ).scalar_one_or_none()


def set_cursor(connection: sa.Connection, tenant_id: str, system: str, resource: str, cursor: str) -> None:
    """Move the cursor; called in the transaction that loads what the cursor now covers."""
    key = (sync_state.c.tenant_id == tenant_id) & (sync_state.c.system == system) & (sync_state.c.resource == resource)
    now = dt.datetime.now(dt.UTC)
    if connection.execute(sync_state.update().where(key).values(cursor=cursor, updated_at=now)).rowcount == 0:
        connection.execute(sync_state.insert().values(tenant_id=tenant_id, system=system, resource=resource,
                                                      cursor=cursor, updated_at=now))


@dataclass(frozen=True)
class DeadLetter:
    """A call that failed for good, kept with its request and every attempt (seed 003 §6.2)."""

    entity_type: str | None
    entity_id: str | None
    request: dict[str, Any]
    attempts: list[dict[str, Any]]
    error_category: str
    error_code: str | None
    error_message: str


def add_dead_letters(connection: sa.Connection, tenant_id: str, system: str, letters: Iterable[DeadLetter]) -> int:
    now = dt.datetime.now(dt.UTC)
    rows = [
        {"id": str(uuid.uuid4()), "tenant_id": tenant_id, "system": system, "entity_type": letter.entity_type,
         "entity_id": letter.entity_id, "request": letter.request, "attempts": letter.attempts,
         "error_category": letter.error_category, "error_code": letter.error_code,
         "error_message": letter.error_message, "status": "pending", "queued_at": now}
        for letter in letters
    ]
    if rows:
        connection.execute(dead_letters.insert(), rows)
    return len(rows)


def dead_letter_rows(
    connection: sa.Connection, tenant_id: str | None = None, status: str | None = "pending"
) -> list[sa.Row[Any]]:
    query = sa.select(dead_letters).order_by(dead_letters.c.queued_at)
    if tenant_id:
        query = query.where(dead_letters.c.tenant_id == tenant_id)
    if status:
        query = query.where(dead_letters.c.status == status)
    return list(connection.execute(query))


MANUAL_RESOLUTIONS = ("skipped", "manual_fix")  # how a person closes a dead letter or a quarantined record


def _by_id_prefix(connection: sa.Connection, table: sa.Table, what: str, id_prefix: str,
                  *where: sa.ColumnElement[bool]) -> sa.Row[Any]:
    """The one row whose id starts with `id_prefix`: lists show the first 8 characters of a
    random (version 4) id, which people then type."""
    rows = list(connection.execute(
        sa.select(table).where(table.c.id.startswith(id_prefix, autoescape=True), *where).limit(2)))
    if len(rows) != 1:
        raise LookupError(f"{'no' if not rows else 'more than one'} {what} with id {id_prefix}…")
    return rows[0]


def find_dead_letter(connection: sa.Connection, id_prefix: str) -> sa.Row[Any]:
    """The dead letter whose id starts with `id_prefix`."""
    return _by_id_prefix(connection, dead_letters, "dead letter", id_prefix)


def resolve_dead_letters(
    connection: sa.Connection,
    resolution: str,
    resolved_by: str,
    *,
    ids: list[str] | None = None,
    entity: tuple[str, str, str] | None = None,
) -> int:
    """Close pending dead letters, by id or for an entity (tenant, entity type, entity id) that went through."""
    where = [dead_letters.c.status == "pending"]
    if ids is not None:
        where.append(dead_letters.c.id.in_(ids))
    if entity is not None:
        tenant_id, entity_type, entity_id = entity
        where += [dead_letters.c.tenant_id == tenant_id, dead_letters.c.entity_type == entity_type,
                  dead_letters.c.entity_id == entity_id]
    return _resolve(connection, dead_letters, resolution, resolved_by, *where)


def _resolve(connection: sa.Connection, table: sa.Table, resolution: str, resolved_by: str,
             *where: sa.ColumnElement[bool]) -> int:
    """Mark the rows of `table` (dead letters, quarantine) that `where` picks as resolved: how, by
    whom and when; returns how many."""
    return connection.execute(table.update().where(*where).values(
        status="resolved", resolution=resolution, resolved_by=resolved_by, resolved_at=dt.datetime.now(dt.UTC),
    )).rowcount

"""Writes to the bookkeeping tables: quarantine, source files and sync logs.

They are called inside a load transaction, so a batch's rows, its held-back rows, the mark
that its file was read and its log line commit together or not at all.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from models.store import canonical_json, is_postgres
from models.tables import quarantine, source_files, sync_logs


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

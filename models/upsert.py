"""Idempotent loading of canonical records: insert new, update changed, leave the rest alone.

A record is identified by its origin (tenant, source system, external id); the stored row
keeps a SHA-256 of the canonical record, so a re-delivered record that did not change costs
one lookup and writes nothing, not even an audit event. Each new record also gets its
``integration_mappings`` row, which later exports use to find the local id.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel

from models.audit import AuditRecorder
from models.store import canonical_json, insert_rows
from models.tables import Entity, integration_mappings, sync_conflicts

LOOKUP_CHUNK = {"sqlite": 900, "postgresql": 20_000}  # SQLite caps bound parameters


@dataclass(frozen=True)
class LoadCounts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    conflicts: int = 0  # updated here and at the source since the last sync; the source won


def _chunks(connection: sa.Connection, values: list[str]) -> Iterator[list[str]]:
    size = LOOKUP_CHUNK.get(connection.dialect.name, 900)
    for start in range(0, len(values), size):
        yield values[start : start + size]


def record_hash(document: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(document).encode()).hexdigest()


@dataclass(frozen=True)
class Known:
    local_id: str
    row_hash: str
    changed_locally: bool  # updated here since it was last synced with the system


def _existing(
    connection: sa.Connection, entity: Entity, tenant_id: str, system: str, external_ids: list[str]
) -> dict[str, Known]:
    """The records the system's ids already map to, whichever system they were first loaded from:
    a customer we exported to Fortnox comes back from Fortnox as the same record."""
    table, mapping = entity.table, integration_mappings
    found: dict[str, Known] = {}
    for ids in _chunks(connection, external_ids):
        rows = connection.execute(
            sa.select(mapping.c.external_id, table.c.id, table.c.row_hash, table.c.updated_at > mapping.c.synced_at)
            .join(table, table.c.id == mapping.c.local_id)
            .where(
                mapping.c.tenant_id == tenant_id,
                mapping.c.system == system,
                mapping.c.entity_type == entity.entity_type,
                mapping.c.external_id.in_(ids),
            )
        )
        found.update((ext, Known(local, digest, bool(changed))) for ext, local, digest, changed in rows)
    return found


def _previous_states(connection: sa.Connection, entity: Entity, ids: list[str]) -> dict[str, dict[str, Any]]:
    fields = list(entity.model.model_fields)
    table = entity.table
    states: dict[str, dict[str, Any]] = {}
    for chunk in _chunks(connection, ids):
        for row in connection.execute(sa.select(table.c.id, *(table.c[f] for f in fields)).where(table.c.id.in_(chunk))):
            values = row._asdict()
            local_id = values.pop("id")
            states[local_id] = entity.model.model_validate(values).model_dump(mode="json")
    return states


def upsert(
    connection: sa.Connection,
    entity: Entity,
    tenant_id: str,
    system: str,
    records: Sequence[tuple[str, BaseModel]],
    audit: AuditRecorder,
    now: dt.datetime | None = None,
) -> LoadCounts:
    """Load `records` (external id, canonical model) inside the caller's transaction.

    Audit events are collected in `audit`; the caller flushes them in the same transaction.
    """
    now = now or dt.datetime.now(dt.UTC)
    external_ids = [external_id for external_id, _ in records]
    if len(set(external_ids)) != len(external_ids):
        raise ValueError(f"{entity.entity_type}: the batch holds the same external id more than once")
    existing = _existing(connection, entity, tenant_id, system, external_ids)
    json_fields = {c.name for c in entity.table.columns if isinstance(c.type, sa.JSON)}

    inserts: list[dict[str, Any]] = []
    mappings: list[dict[str, Any]] = []
    updates: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
    conflicts: list[tuple[str, str]] = []
    unchanged = 0
    for external_id, model in records:
        document = model.model_dump(mode="json")
        digest = record_hash(document)
        columns = {
            name: document[name] if name in json_fields else getattr(model, name) for name in entity.model.model_fields
        }
        known = existing.get(external_id)
        if known is None:
            local_id = str(uuid.uuid4())
            inserts.append(
                {"id": local_id, "tenant_id": tenant_id, "source_system": system, "external_id": external_id,
                 "row_hash": digest, "created_at": now, "updated_at": now, **columns}
            )
            mappings.append(
                {"id": str(uuid.uuid4()), "tenant_id": tenant_id, "system": system, "entity_type": entity.entity_type,
                 "external_id": external_id, "local_id": local_id, "last_sync_direction": "import",
                 "synced_at": now, "created_at": now}
            )
            audit.record("create", entity.entity_type, local_id, occurred_at=now, new_state=document,
                         details={"source_system": system, "external_id": external_id})
        elif known.row_hash == digest:
            unchanged += 1
        else:
            updates.append((known.local_id, {"row_hash": digest, "updated_at": now, **columns}, document))
            if known.changed_locally:
                conflicts.append((known.local_id, external_id))

    insert_rows(connection, entity.table, inserts)
    insert_rows(connection, integration_mappings, mappings)
    if updates:
        previous = _previous_states(connection, entity, [local_id for local_id, _, _ in updates])
        _record_conflicts(connection, entity, tenant_id, system, conflicts, previous, updates, now)
        _apply_updates(connection, entity, tenant_id, system, updates, previous, audit, now)
    return LoadCounts(len(inserts), len(updates), unchanged, len(conflicts))


def _apply_updates(
    connection: sa.Connection,
    entity: Entity,
    tenant_id: str,
    system: str,
    updates: list[tuple[str, dict[str, Any], dict[str, Any]]],
    previous: dict[str, dict[str, Any]],
    audit: AuditRecorder,
    now: dt.datetime,
) -> None:
    table = entity.table
    names = list(updates[0][1])
    statement = (
        table.update()
        .where(table.c.id == sa.bindparam("_id"))
        .values({name: sa.bindparam(f"_{name}") for name in names})
    )
    connection.execute(statement, [{"_id": local_id, **{f"_{k}": v for k, v in values.items()}}
                                   for local_id, values, _ in updates])
    local_ids = [local_id for local_id, _, _ in updates]
    for ids in _chunks(connection, local_ids):
        connection.execute(
            integration_mappings.update()
            .where(
                integration_mappings.c.tenant_id == tenant_id,
                integration_mappings.c.system == system,
                integration_mappings.c.entity_type == entity.entity_type,
                integration_mappings.c.local_id.in_(ids),
            )
            .values(synced_at=now, last_sync_direction="import")
        )
    for local_id, _, document in updates:
        before = previous[local_id]
        change_set = {k: {"from": before.get(k), "to": v} for k, v in document.items() if before.get(k) != v}
        audit.record("update", entity.entity_type, local_id, occurred_at=now, previous_state=before,
                     new_state=document, change_set=change_set)


def _record_conflicts(
    connection: sa.Connection,
    entity: Entity,
    tenant_id: str,
    system: str,
    conflicts: list[tuple[str, str]],
    previous: dict[str, dict[str, Any]],
    updates: list[tuple[str, dict[str, Any], dict[str, Any]]],
    now: dt.datetime,
) -> None:
    """Seed 001: last write wins, and the losing local version is kept where a person can see it.
    The import is the later write: the source changed the record after we last synced it."""
    incoming = {local_id: document for local_id, _, document in updates}
    insert_rows(connection, sync_conflicts, [
        {"id": str(uuid.uuid4()), "tenant_id": tenant_id, "system": system, "entity_type": entity.entity_type,
         "local_id": local_id, "external_id": external_id, "local_state": previous[local_id],
         "remote_state": incoming[local_id], "resolution": "remote_wins", "detected_at": now}
        for local_id, external_id in conflicts
    ])

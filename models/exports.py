"""What an export needs from the store: what to send, where it went before, and the record of sending it.

Seed 001: export on demand and incremental; seed 003 §3: never create what exists. A record
is due when it was never exported to the system or changed here since its last sync. Each
sent record is committed on its own (mapping, job row, audit event), so an export that stops
half-way keeps what it did, and the next run starts where it stopped.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel

from models.audit import AuditRecorder
from models.bookkeeping import resolve_dead_letters
from models.tables import Entity, dead_letters, integration_jobs, integration_mappings


@dataclass(frozen=True)
class Due:
    """A record to export and the remote id it already has, if any."""

    local_id: str
    model: BaseModel
    external_id: str | None


def due_for_export(
    connection: sa.Connection,
    entity: Entity,
    tenant_id: str,
    system: str,
    since: dt.datetime | None = None,
    local_ids: list[str] | None = None,
) -> list[Due]:
    """Records of `entity` that `system` has not seen in their current state.

    Records that came from `system` and did not change here since are not sent back to it.
    """
    table, mapping = entity.table, integration_mappings
    joined = table.outerjoin(
        mapping,
        (mapping.c.local_id == table.c.id) & (mapping.c.tenant_id == tenant_id) & (mapping.c.system == system)
        & (mapping.c.entity_type == entity.entity_type),
    )
    fields = list(entity.model.model_fields)
    # Refused before and not changed since: sending it again would be refused again. A person
    # fixes the record (which makes it due) or retries the dead letter (which names it).
    refused_as_is = sa.exists().where(
        dead_letters.c.tenant_id == tenant_id, dead_letters.c.system == system,
        dead_letters.c.entity_type == entity.entity_type, dead_letters.c.entity_id == table.c.id,
        dead_letters.c.status == "pending", dead_letters.c.queued_at >= table.c.updated_at,
    ) if local_ids is None else sa.false()
    query = (
        sa.select(table.c.id, mapping.c.external_id, *(table.c[f] for f in fields))
        .select_from(joined)
        .where(table.c.tenant_id == tenant_id)
        .where(sa.or_(mapping.c.id.is_(None), table.c.updated_at > mapping.c.synced_at))
        .where(~refused_as_is)
        .order_by(table.c.created_at, table.c.external_id)
    )
    if since is not None:
        query = query.where(table.c.updated_at >= since)
    if local_ids is not None:
        query = query.where(table.c.id.in_(local_ids))
    due = []
    for row in connection.execute(query):
        values = row._asdict()
        local_id, external_id = values.pop("id"), values.pop("external_id")
        due.append(Due(local_id, entity.model.model_validate(values), external_id))
    return due


def record_export(
    connection: sa.Connection,
    entity: Entity,
    tenant_id: str,
    system: str,
    local_id: str,
    external_id: str,
    payload: dict[str, Any],
    response: dict[str, Any],
    created: bool,
    actor: str,
    now: dt.datetime | None = None,
) -> None:
    """Remember that `local_id` is `external_id` in `system`, as of now, with its job row and audit event."""
    now = now or dt.datetime.now(dt.UTC)
    key = (
        (integration_mappings.c.tenant_id == tenant_id) & (integration_mappings.c.system == system)
        & (integration_mappings.c.entity_type == entity.entity_type) & (integration_mappings.c.local_id == local_id)
    )
    moved = connection.execute(
        integration_mappings.update().where(key).values(external_id=external_id, synced_at=now, last_sync_direction="export")
    ).rowcount
    if not moved:
        connection.execute(integration_mappings.insert().values(
            id=str(uuid.uuid4()), tenant_id=tenant_id, system=system, entity_type=entity.entity_type,
            external_id=external_id, local_id=local_id, last_sync_direction="export", synced_at=now, created_at=now,
        ))
    connection.execute(integration_jobs.insert().values(
        id=str(uuid.uuid4()), tenant_id=tenant_id, job_type="export", data_type=entity.entity_type,
        resource_type=entity.entity_type, resource_id=local_id, external_id=external_id, status="completed",
        payload=payload, response=response, created_at=now, processed_at=now, completed_at=now,
    ))
    resolve_dead_letters(connection, "retried", actor, entity=(tenant_id, entity.entity_type, local_id))
    audit = AuditRecorder(tenant_id, actor)
    audit.record("export", entity.entity_type, local_id, occurred_at=now, new_state=payload,
                 details={"system": system, "external_id": external_id, "created": created})
    audit.flush(connection)

"""The bulk loads' audit events checked against the rows they vouch for.

A load of bulk records (``Entity.bulk``: time reports, bank transactions) is audited by one
``sync`` event holding the count and a digest of the rows it inserted (``models.upsert``). The
chain proves the event unaltered; this check proves the rows still are what it says. It takes
the digest again from the entity table: the rows of the event's source system created at the
event's moment, each hashed from its stored content, not from its stored row hash. A row updated
since counts with its state before its first update, which that update's own audit event holds.
A row altered, removed or slipped in directly in the database changes the digest.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from models.store import canonical_json
from models.tables import ENTITIES, Entity, audit_events
from models.upsert import batch_digest, record_hash

BULK = {entity.entity_type: entity for entity in ENTITIES.values() if entity.bulk}
ID_CHUNK = 900  # ids per IN list: SQLite caps bound parameters


@dataclass(frozen=True)
class BatchCheck:
    """One bulk load's sync event and what the table holds of the rows it vouches for."""

    seq: int
    entity_type: str
    occurred_at: dt.datetime
    inserted: int
    found: int
    problem: str | None

    @property
    def ok(self) -> bool:
        return self.problem is None


def verify_batches(connection: sa.Connection, tenant_id: str) -> list[BatchCheck]:
    """Check every bulk load of the tenant whose sync event is still in the audit trail, oldest first."""
    events = connection.execute(
        sa.select(audit_events.c.seq, audit_events.c.entity_type, audit_events.c.occurred_at,
                  audit_events.c.new_state, audit_events.c.details)
        .where(audit_events.c.tenant_id == tenant_id, audit_events.c.event_type == "sync",
               audit_events.c.entity_type.in_(list(BULK)))
        .order_by(audit_events.c.seq)
    ).all()
    return [_check(connection, tenant_id, event) for event in events if "rows_sha256" in (event.new_state or {})]


def _check(connection: sa.Connection, tenant_id: str, event: sa.Row[Any]) -> BatchCheck:
    entity = BULK[event.entity_type]
    table = entity.table
    rows = connection.execute(
        sa.select(table.c.id, table.c.external_id, table.c.updated_at > table.c.created_at,
                  *(table.c[name] for name in entity.fields))
        .where(table.c.tenant_id == tenant_id, table.c.source_system == event.details["source_system"],
               table.c.created_at == event.occurred_at)
    ).all()
    originals = _states_before_first_update(connection, tenant_id, entity, [row[0] for row in rows if row[2]])
    pairs = [(row[1], record_hash(canonical_json(originals.get(row[0]) or _state(entity, row)))) for row in rows]
    state = event.new_state
    if len(pairs) != state["inserted"]:
        problem = f"{state['inserted']:,} rows were inserted, {len(pairs):,} are stored under the load's moment"
    elif batch_digest(pairs) != state["rows_sha256"]:
        problem = "the stored rows differ from those inserted (their digest does not match)"
    else:
        problem = None
    return BatchCheck(event.seq, event.entity_type, event.occurred_at, state["inserted"], len(pairs), problem)


def _state(entity: Entity, row: sa.Row[Any]) -> dict[str, Any]:
    """A stored record's canonical document, as its row hash was taken over (``models.upsert``)."""
    values = dict(zip(entity.fields, row[3:], strict=True))
    return entity.model.model_validate(values).model_dump(mode="json")


def _states_before_first_update(
    connection: sa.Connection, tenant_id: str, entity: Entity, ids: list[str]
) -> dict[str, dict[str, Any]]:
    states: dict[str, dict[str, Any]] = {}
    for start in range(0, len(ids), ID_CHUNK):
        for entity_id, previous in connection.execute(
            sa.select(audit_events.c.entity_id, audit_events.c.previous_state)
            .where(audit_events.c.tenant_id == tenant_id, audit_events.c.event_type == "update",
                   audit_events.c.entity_type == entity.entity_type,
                   audit_events.c.entity_id.in_(ids[start : start + ID_CHUNK]))
            .order_by(audit_events.c.seq)
        ):
            states.setdefault(entity_id, previous)
    return states

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
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import groupby
from operator import itemgetter
from typing import Any

import sqlalchemy as sa

from models.store import document_json
from models.tables import ENTITIES, Entity, audit_events
from models.upsert import batch_digest, record_hash, stored_document

BULK = {entity.entity_type: entity for entity in ENTITIES.values() if entity.bulk}


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
    """Check every bulk load of the tenant whose sync event is still in the audit trail, oldest first.

    The rows of each entity and source system are read in one pass ordered by ``created_at``
    (there is no index on it to look each load up by), a load's rows at a time."""
    events = [
        event for event in connection.execute(
            sa.select(audit_events.c.seq, audit_events.c.entity_type, audit_events.c.occurred_at,
                      audit_events.c.new_state, audit_events.c.details)
            .where(audit_events.c.tenant_id == tenant_id, audit_events.c.event_type == "sync",
                   audit_events.c.entity_type.in_(list(BULK)))
            .order_by(audit_events.c.seq)
        )
        if "rows_sha256" in (event.new_state or {})
    ]
    sources: dict[tuple[str, str], dict[dt.datetime, sa.Row[Any]]] = defaultdict(dict)
    for event in events:
        sources[(event.entity_type, event.details["source_system"])][event.occurred_at] = event
    checks: dict[int, BatchCheck] = {}
    for (entity_type, system), loads in sources.items():
        entity = BULK[entity_type]
        originals = _states_before_first_update(connection, tenant_id, entity)
        for moment, rows in _rows_by_moment(connection, tenant_id, entity, system):
            if (event := loads.pop(moment, None)) is not None:
                pairs = [(row[1], record_hash(document_json(entity.model,
                                                            originals.get(row[0]) or _document(entity, row))))
                         for row in rows]
                checks[event.seq] = _check(event, pairs)
        for event in loads.values():  # loads none of whose rows are stored any more
            checks[event.seq] = _check(event, [])
    return [checks[seq] for seq in sorted(checks)]


def _check(event: sa.Row[Any], pairs: list[tuple[str, str]]) -> BatchCheck:
    state = event.new_state
    if len(pairs) != state["inserted"]:
        problem = f"{state['inserted']:,} rows were inserted, {len(pairs):,} are stored under the load's moment"
    elif batch_digest(pairs) != state["rows_sha256"]:
        problem = "the stored rows differ from those inserted (their digest does not match)"
    else:
        problem = None
    return BatchCheck(event.seq, event.entity_type, event.occurred_at, state["inserted"], len(pairs), problem)


def _rows_by_moment(
    connection: sa.Connection, tenant_id: str, entity: Entity, system: str
) -> Iterator[tuple[dt.datetime, list[sa.Row[Any]]]]:
    """The source system's rows (id, external id, then the fields), grouped by ``created_at``."""
    table = entity.table
    rows = connection.execute(
        sa.select(table.c.id, table.c.external_id, table.c.created_at, *(table.c[name] for name in entity.fields))
        .where(table.c.tenant_id == tenant_id, table.c.source_system == system)
        .order_by(table.c.created_at)
        .execution_options(yield_per=5000)
    )
    for moment, group in groupby(rows, key=itemgetter(2)):
        yield moment, list(group)


def _document(entity: Entity, row: sa.Row[Any]) -> dict[str, Any]:
    return stored_document(entity, dict(zip(entity.fields, row[3:], strict=True)))


def _states_before_first_update(connection: sa.Connection, tenant_id: str, entity: Entity) -> dict[str, dict[str, Any]]:
    """Per record updated since it was loaded, its state before the first update (bulk records
    are rarely updated, so all of them are read at once)."""
    states: dict[str, dict[str, Any]] = {}
    for entity_id, previous in connection.execute(
        sa.select(audit_events.c.entity_id, audit_events.c.previous_state)
        .where(audit_events.c.tenant_id == tenant_id, audit_events.c.event_type == "update",
               audit_events.c.entity_type == entity.entity_type)
        .order_by(audit_events.c.seq)
    ):
        states.setdefault(entity_id, previous)
    return states

"""The append-only audit trail with its SHA-256 chain (seed 003 §7.5).

Seed 003 chains ``checksum[n] = SHA256(entity_id + timestamp + event_type + change_set +
checksum[n-1])``. We hash those fields and, in addition, the tenant, the entity type and
both states, so that editing what a row says happened (not only its change set) breaks the
chain too. There is one chain per tenant, ordered by the table's sequence column; writers
hold a lock on the chain head for the whole load transaction, so two runs cannot fork it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from models.store import canonical_json, insert_rows, is_postgres
from models.tables import audit_events

EVENT_TYPES = ("create", "update", "delete", "sync", "export", "login", "permission_change")


def _utc_text(moment: dt.datetime) -> str:
    # SQLite hands timestamps back without a zone; everything we write is UTC.
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def checksum(event: dict[str, Any], previous: str | None) -> str:
    parts = (
        event["entity_id"],
        _utc_text(event["occurred_at"]),
        event["event_type"],
        canonical_json(event.get("change_set")),
        previous or "",
        event["tenant_id"],
        event["entity_type"],
        canonical_json(event.get("previous_state")),
        canonical_json(event.get("new_state")),
    )
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


@dataclass
class AuditRecorder:
    """Collects the audit events of one load transaction and appends them chained."""

    tenant_id: str
    system_actor: str
    events: list[dict[str, Any]] = field(default_factory=list)

    def record(
        self,
        event_type: str,
        entity_type: str,
        entity_id: str,
        *,
        occurred_at: dt.datetime,
        previous_state: dict[str, Any] | None = None,
        new_state: dict[str, Any] | None = None,
        change_set: dict[str, Any] | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        if event_type not in EVENT_TYPES:
            raise ValueError(f"unknown audit event type {event_type!r}")
        self.events.append(
            {
                "id": str(uuid.uuid4()),
                "tenant_id": self.tenant_id,
                "occurred_at": occurred_at,
                "event_type": event_type,
                "entity_type": entity_type,
                "entity_id": entity_id,
                "system_actor": self.system_actor,
                "previous_state": previous_state,
                "new_state": new_state,
                "change_set": change_set,
                "details": details,
            }
        )

    def flush(self, connection: sa.Connection) -> int:
        """Chain and insert the collected events inside the caller's transaction."""
        if not self.events:
            return 0
        previous = _lock_chain_head(connection, self.tenant_id)
        for event in self.events:
            event["previous_checksum"] = previous
            event["checksum"] = previous = checksum(event, previous)
        insert_rows(connection, audit_events, self.events)
        written, self.events = len(self.events), []
        return written


def _lock_chain_head(connection: sa.Connection, tenant_id: str) -> str | None:
    if is_postgres(connection):
        # SQLite's BEGIN IMMEDIATE (models.store) already serialises writers.
        connection.execute(
            sa.text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"audit:{tenant_id}"}
        )
    return connection.execute(
        sa.select(audit_events.c.checksum)
        .where(audit_events.c.tenant_id == tenant_id)
        .order_by(audit_events.c.seq.desc())
        .limit(1)
    ).scalar_one_or_none()


@dataclass(frozen=True)
class ChainBreak:
    """The first audit event whose checksum or link does not hold."""

    seq: int
    id: str
    reason: str


@dataclass(frozen=True)
class ChainReport:
    tenant_id: str
    events_checked: int
    first_break: ChainBreak | None

    @property
    def ok(self) -> bool:
        return self.first_break is None


def _rows(connection: sa.Connection, tenant_id: str) -> Iterator[sa.Row[Any]]:
    result = connection.execution_options(yield_per=5000).execute(
        sa.select(audit_events).where(audit_events.c.tenant_id == tenant_id).order_by(audit_events.c.seq)
    )
    yield from result


def verify_chain(connection: sa.Connection, tenant_id: str) -> ChainReport:
    """Walk the tenant's chain from the start and name the first broken link."""
    previous: str | None = None
    checked = 0
    for row in _rows(connection, tenant_id):
        event = row._asdict()
        if event["previous_checksum"] != previous:
            return ChainReport(
                tenant_id,
                checked,
                ChainBreak(row.seq, row.id, "previous_checksum does not match the checksum of the event before it "
                           "(an event was deleted, inserted or reordered)"),
            )
        if checksum(event, previous) != event["checksum"]:
            return ChainReport(
                tenant_id, checked, ChainBreak(row.seq, row.id, "content does not match its checksum (the row was altered)")
            )
        previous = event["checksum"]
        checked += 1
    return ChainReport(tenant_id, checked, None)


def tenants(connection: sa.Connection) -> Iterable[str]:
    return connection.execute(sa.select(audit_events.c.tenant_id).distinct().order_by(audit_events.c.tenant_id)).scalars()

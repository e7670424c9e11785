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
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from models.store import JsonText, canonical_json, insert_rows, is_postgres, new_ids
from models.tables import audit_events

EVENT_TYPES = ("create", "update", "delete", "sync", "export", "login", "permission_change")


def _utc_text(moment: dt.datetime) -> str:
    # SQLite hands timestamps back without a zone; everything we write is UTC.
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def checksum(event: dict[str, Any], previous: str | None, occurred: str | None = None) -> str:
    """The checksum of `event` chained to `previous`.

    The states and the change set are taken as they are when already spelled (:class:`JsonText`,
    as the recorder keeps them) and spelled here otherwise (an event read back from the table);
    `occurred` is ``_utc_text(event["occurred_at"])`` when the caller has it already.
    """
    parts = (
        event["entity_id"],
        occurred if occurred is not None else _utc_text(event["occurred_at"]),
        event["event_type"],
        _spelled(event.get("change_set")),
        previous or "",
        event["tenant_id"],
        event["entity_type"],
        _spelled(event.get("previous_state")),
        _spelled(event.get("new_state")),
    )
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _spelled(value: Any) -> str:
    if value is None:
        return "null"  # canonical_json(None), the most common state (no change set, no previous state)
    return value if isinstance(value, JsonText) else canonical_json(value)


def _as_json(value: dict[str, Any] | JsonText | None) -> JsonText | None:
    """A state or change set as the recorder keeps it: spelled once, used for the checksum and the row."""
    if value is None or isinstance(value, JsonText):
        return value
    return JsonText(canonical_json(value))


@dataclass
class AuditRecorder:
    """Collects the audit events of one load transaction and appends them chained.

    States and change sets may be handed over already spelled (:class:`JsonText`), which saves
    serialising a large batch's records once more.
    """

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
        previous_state: dict[str, Any] | JsonText | None = None,
        new_state: dict[str, Any] | JsonText | None = None,
        change_set: dict[str, Any] | JsonText | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        if event_type not in EVENT_TYPES:
            raise ValueError(f"unknown audit event type {event_type!r}")
        self.events.append(
            {
                "tenant_id": self.tenant_id,
                "occurred_at": occurred_at,
                "event_type": event_type,
                "entity_type": entity_type,
                "entity_id": entity_id,
                "system_actor": self.system_actor,
                "previous_state": _as_json(previous_state),
                "new_state": _as_json(new_state),
                "change_set": _as_json(change_set),
                "details": details,
            }
        )

    def flush(self, connection: sa.Connection) -> int:
        """Chain and insert the collected events inside the caller's transaction.

        A large load flushes once per chunk; the chain head is read again each time, under the
        lock the first flush took for the whole transaction.
        """
        if not self.events:
            return 0
        head = _lock_chain_head(connection, self.tenant_id)
        insert_rows(connection, audit_events, _chained(self.events, head))
        written, self.events = len(self.events), []
        return written


def _chained(events: list[dict[str, Any]], previous: str | None) -> Iterator[dict[str, Any]]:
    """The events with their ids and checksums, each chained to the one before. They are made
    as the insert takes them, so on PostgreSQL the hashing overlaps the server storing the
    rows sent before."""
    # The events of a load share one moment: spell each distinct time once, not per event.
    occurred = {moment: _utc_text(moment) for moment in {event["occurred_at"] for event in events}}
    for event, event_id in zip(events, new_ids(len(events)), strict=True):
        event["id"] = event_id
        event["previous_checksum"] = previous
        event["checksum"] = previous = checksum(event, previous, occurred[event["occurred_at"]])
        yield event


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

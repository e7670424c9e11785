"""The append-only audit trail with its SHA-256 chain (seed 003 §7.5).

Seed 003 chains ``checksum[n] = SHA256(entity_id + timestamp + event_type + change_set +
checksum[n-1])``. We hash those fields and, in addition, the tenant, the entity type and
both states, so that editing what a row says happened (not only its change set) breaks the
chain too. There is one chain per tenant, ordered by the table's sequence column; writers
hold a lock on the chain head for the whole load transaction, so two runs cannot fork it.

Retention (INT-01-OPS-003) may remove the events older than the bookkeeping period, but only as
a whole prefix of a chain and only behind a *checkpoint*: an event appended at the head (entity
type ``audit_chain``) that names the last removed event's sequence number and checksum. The
verifier then starts the chain from that checksum instead of from nothing, so the remaining
chain verifies exactly as before, while deleting, inserting or altering any remaining event, or
the checkpoint itself, still breaks it. The database refuses any other DELETE (migration 0006).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from models.store import JsonText, canonical_json, insert_rows, is_postgres, new_ids, tenants_in
from models.tables import audit_events

EVENT_TYPES = ("create", "update", "delete", "sync", "export", "login", "permission_change")
CHECKPOINT = "audit_chain"  # entity type of the event recording a removed prefix (migration 0006 knows it too)


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
    # Streamed per statement: Connection.execution_options would stream every later statement of
    # the caller's transaction too (retention deletes after verifying).
    result = connection.execute(
        sa.select(audit_events).where(audit_events.c.tenant_id == tenant_id).order_by(audit_events.c.seq)
        .execution_options(yield_per=5000)
    )
    yield from result


def _chain_start(connection: sa.Connection, tenant_id: str) -> str | None:
    """What the first remaining event links to: nothing for a whole chain, or the checksum of the last
    event removed by retention, as the newest checkpoint records it."""
    state = connection.execute(
        sa.select(audit_events.c.new_state)
        .where(audit_events.c.tenant_id == tenant_id, audit_events.c.entity_type == CHECKPOINT)
        .order_by(audit_events.c.seq.desc())
        .limit(1)
    ).scalar_one_or_none()
    return state["through_checksum"] if state else None


def verify_chain(connection: sa.Connection, tenant_id: str) -> ChainReport:
    """Walk the tenant's chain from its start (after the newest checkpoint's prefix) and name the first broken link."""
    previous = _chain_start(connection, tenant_id)
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


@dataclass(frozen=True)
class Prefix:
    """The start of a tenant's chain up to (not including) the first event at or after a moment."""

    count: int
    through_seq: int
    through_id: str
    through_checksum: str
    oldest: dt.datetime
    newest: dt.datetime


class ChainBrokenError(Exception):
    """Retention refuses to remove events from a broken chain: that would destroy the evidence."""

    def __init__(self, report: ChainReport) -> None:
        self.report = report
        where = report.first_break
        super().__init__(f"the audit chain of {report.tenant_id} is broken at seq {where.seq if where else '?'} "
                         f"({where.reason if where else ''}); no audit event was removed")


def old_prefix(connection: sa.Connection, tenant_id: str, before: dt.datetime) -> Prefix | None:
    """The events older than `before` that may go: those before the first event that is not older
    (one younger event keeps every event after it, whatever their times). None if there are none."""
    tenant = audit_events.c.tenant_id == tenant_id
    first_kept = connection.execute(
        sa.select(sa.func.min(audit_events.c.seq)).where(tenant, audit_events.c.occurred_at >= before)
    ).scalar_one()
    in_prefix = tenant if first_kept is None else sa.and_(tenant, audit_events.c.seq < first_kept)
    count, through, oldest, newest = connection.execute(
        sa.select(sa.func.count(), sa.func.max(audit_events.c.seq), sa.func.min(audit_events.c.occurred_at),
                  sa.func.max(audit_events.c.occurred_at)).where(in_prefix)
    ).one()
    if not count:
        return None
    last = connection.execute(
        sa.select(audit_events.c.id, audit_events.c.checksum).where(audit_events.c.seq == through)
    ).one()
    return Prefix(count, through, last.id, last.checksum, oldest, newest)


def remove_prefix(
    connection: sa.Connection, tenant_id: str, before: dt.datetime, *, system_actor: str, occurred_at: dt.datetime,
    reason: str,
) -> Prefix | None:
    """Remove the events older than `before` behind a checkpoint, inside the caller's transaction.

    The chain is verified first: a broken chain raises :class:`ChainBrokenError` and loses nothing.
    The checkpoint is appended at the head (under the head lock), then the prefix is deleted, which
    the database allows only while that checkpoint is the head.
    """
    _lock_chain_head(connection, tenant_id)
    prefix = old_prefix(connection, tenant_id, before)
    if prefix is None:
        return None
    report = verify_chain(connection, tenant_id)
    if not report.ok:
        raise ChainBrokenError(report)
    checkpoint = AuditRecorder(tenant_id, system_actor)
    checkpoint.record(
        "delete", CHECKPOINT, prefix.through_id, occurred_at=occurred_at,
        new_state={"through_seq": prefix.through_seq, "through_checksum": prefix.through_checksum,
                   "removed": prefix.count, "oldest": _utc_text(prefix.oldest), "newest": _utc_text(prefix.newest),
                   "before": _utc_text(before), "reason": reason},
    )
    checkpoint.flush(connection)
    connection.execute(audit_events.delete().where(audit_events.c.tenant_id == tenant_id,
                                                   audit_events.c.seq <= prefix.through_seq))
    return prefix


def tenants(connection: sa.Connection) -> list[str]:
    """Every tenant with an audit trail."""
    return tenants_in(connection, (audit_events,))

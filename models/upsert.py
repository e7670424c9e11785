"""Idempotent loading of canonical records: insert new, update changed, leave the rest alone.

A record is identified by its origin (tenant, source system, external id); the stored row
keeps a SHA-256 of the canonical record, so a re-delivered record that did not change costs
one lookup and writes nothing, not even an audit event. Each new record also gets its
``integration_mappings`` row, which later exports use to find the local id, and its own
``create`` audit event.

A *bulk* entity (``Entity.bulk``: time reports, bank transactions) is found by its own table's
key instead, gets no mapping rows, and the records one load inserts are audited by a single
``sync`` event whose state holds their count and a SHA-256 over their external ids and row
hashes (:func:`batch_digest`); the rows share that event's moment as their ``created_at``, so
the digest can be taken again from the table. Updates of bulk records are still audited one
by one, with their change sets.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from functools import cache
from operator import itemgetter
from typing import Any, NamedTuple

import sqlalchemy as sa
from pydantic import BaseModel, TypeAdapter
from sqlalchemy.dialects import postgresql

from models.audit import AuditRecorder
from models.store import (
    UNIT_SEPARATOR, JsonText, copy_fields, copy_text, copy_texts, copy_writer, document_json, insert_rows, is_postgres,
    joined, new_ids, read_document,
)
from models.tables import Entity, integration_mappings, sync_conflicts

LOOKUP_CHUNK = {"sqlite": 900, "postgresql": 20_000}  # SQLite caps bound parameters
LOAD_CHUNK = 20_000  # records per chunk of a large load: its working memory stays near 30 MiB, whatever the size


@dataclass(frozen=True)
class LoadCounts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    conflicts: int = 0  # updated here and at the source since the last sync; the source won


_ROW_COLUMNS = ("id", "tenant_id", "source_system", "external_id", "row_hash", "created_at", "updated_at")


def id_chunks(connection: sa.Connection, values: list[str]) -> Iterator[list[str]]:
    size = LOOKUP_CHUNK.get(connection.dialect.name, 900)
    for start in range(0, len(values), size):
        yield values[start : start + size]


def among(connection: sa.Connection, column: sa.Column[Any], values: list[str]) -> sa.ColumnElement[bool]:
    """`column IN values`. On PostgreSQL as ``= ANY(:array)``: one parameter instead of thousands,
    which SQLAlchemy, psycopg and the server handle about three times faster. The array goes as
    one text split by the server, which saves psycopg quoting each element (a third of a second
    for 100,000 ids), unless a value holds the separator itself."""
    if is_postgres(connection):
        if (text := joined(values)) is not None:
            return column == sa.any_(sa.func.string_to_array(sa.bindparam(None, text, type_=sa.Text), UNIT_SEPARATOR))
        return column == sa.any_(sa.bindparam(None, values, type_=postgresql.ARRAY(column.type)))
    return column.in_(values)


def record_hash(document_json: str) -> str:
    """The row hash of a record: SHA-256 of its canonical JSON."""
    return hashlib.sha256(document_json.encode()).hexdigest()


class Spelled(NamedTuple):
    """A canonical record as a load takes it: its external id, its canonical JSON document and
    that text's SHA-256, the row hash.

    The document holds every column of the record (the model's fields and computed fields, as
    ``model_dump(mode="json")`` writes them), so a load needs nothing else to store a new record,
    and the unchanged check needs only the hash. Plain text also crosses a process boundary at a
    fraction of what a model costs to pickle, so records can be validated and spelled elsewhere
    (``models.spelling``). Spelled for PostgreSQL, a record also carries its columns as COPY text,
    so that a new record costs the load one line of text."""

    external_id: str
    row_hash: str
    document: str  # canonical JSON (models.store.document_json)
    copy_fields: str | None = None  # the document's values in column order (models.store.copy_fields)


def spelled(records: Iterable[tuple[str, BaseModel]], *, for_copy: bool = False) -> list[Spelled]:
    """(external id, model) pairs spelled for :func:`upsert`, each once: the text serves the row
    hash, the row and the audit event; `for_copy` adds the columns as PostgreSQL's COPY takes
    them. The records of one model are dumped by one call of pydantic's serializer for all of
    them, a third cheaper than a call for each."""
    pairs = list(records)
    by_model: dict[type[BaseModel], list[int]] = {}
    for position, (_, model) in enumerate(pairs):
        by_model.setdefault(type(model), []).append(position)
    result: list[Spelled | None] = [None] * len(pairs)
    for model, positions in by_model.items():
        documents = list_adapter(model).dump_python([pairs[p][1] for p in positions], mode="json")
        columns = _columns_of(model)
        for position, values in zip(positions, documents, strict=True):
            document = document_json(model, values)
            fields = copy_fields([values[name] for name in columns]) if for_copy else None
            result[position] = Spelled(pairs[position][0], record_hash(document), document, fields)
    return result  # type: ignore[return-value]  (every position was filled)


@cache
def list_adapter(model: type[BaseModel]) -> TypeAdapter[list[Any]]:
    """Validates and dumps lists of `model` in one call each."""
    return TypeAdapter(list[model])  # type: ignore[valid-type]


@cache
def _columns_of(model: type[BaseModel]) -> tuple[str, ...]:
    """A model's columns in a spelled record's ``copy_fields``: its fields, then its computed fields."""
    return (*model.model_fields, *model.model_computed_fields)


@dataclass(frozen=True)
class Known:
    local_id: str
    row_hash: str
    changed_locally: bool  # updated here since it was last synced with the system


def stored_records(
    connection: sa.Connection, entity: Entity, tenant_id: str, system: str, external_ids: list[str]
) -> dict[str, Known]:
    """The records the system's ids already map to, whichever system they were first loaded from:
    a customer we exported to Fortnox comes back from Fortnox as the same record."""
    table, mapping = entity.table, integration_mappings
    if entity.bulk:  # never changed here, and known only to the system it came from
        query = sa.select(table.c.external_id, table.c.id, table.c.row_hash, sa.false()).where(
            table.c.tenant_id == tenant_id, table.c.source_system == system)
        key = table.c.external_id
    else:
        query = (
            sa.select(mapping.c.external_id, table.c.id, table.c.row_hash, table.c.updated_at > mapping.c.synced_at)
            .join(table, table.c.id == mapping.c.local_id)
            .where(mapping.c.tenant_id == tenant_id, mapping.c.system == system,
                   mapping.c.entity_type == entity.entity_type)
        )
        key = mapping.c.external_id
    found: dict[str, Known] = {}
    for ids in id_chunks(connection, external_ids):
        rows = connection.execute(query.where(among(connection, key, ids)))
        found.update((ext, Known(local, digest, bool(changed))) for ext, local, digest, changed in rows)
    return found


def _previous_states(connection: sa.Connection, entity: Entity, ids: list[str]) -> dict[str, dict[str, Any]]:
    table = entity.table
    states: dict[str, dict[str, Any]] = {}
    for chunk in id_chunks(connection, ids):
        query = sa.select(table.c.id, *(table.c[f] for f in entity.fields)).where(among(connection, table.c.id, chunk))
        for row in connection.execute(query):
            values = row._asdict()
            local_id = values.pop("id")
            states[local_id] = stored_document(entity, values)
    return states


def stored_document(entity: Entity, values: dict[str, Any]) -> dict[str, Any]:
    """The canonical document of a record as stored (its field columns), as its row hash is taken over."""
    return entity.model.model_validate(values).model_dump(mode="json")


@dataclass(frozen=True)
class _Changed:
    """A stored record that arrived changed. It is updated after all new records are inserted."""

    known: Known
    record: Spelled


def upsert(
    connection: sa.Connection,
    entity: Entity,
    tenant_id: str,
    system: str,
    records: Sequence[Spelled],
    audit: AuditRecorder,
    now: dt.datetime | None = None,
) -> LoadCounts:
    """Load `records` (:func:`spelled`) inside the caller's transaction, as one chunk of
    :func:`upsert_chunks`: the audit events (the creates in record order, then the updates) are
    flushed with them. A large batch is better loaded with :func:`upsert_in_chunks`.
    """
    existing = stored_records(connection, entity, tenant_id, system, [record.external_id for record in records])
    return upsert_chunks(connection, entity, tenant_id, system, [records], audit, existing, now)


def upsert_in_chunks(
    connection: sa.Connection,
    entity: Entity,
    tenant_id: str,
    system: str,
    records: Sequence[Spelled],
    audit: AuditRecorder,
    now: dt.datetime | None = None,
    chunk_size: int = LOAD_CHUNK,
    on_chunk: Callable[[int], None] | None = None,
    existing: dict[str, Known] | None = None,
) -> LoadCounts:
    """:func:`upsert` and the audit flush for a batch of any size, inside the caller's one transaction.

    The records go `chunk_size` at a time (:func:`upsert_chunks`). `existing` is what the caller
    has already looked up of these records in this transaction (:func:`stored_records`), so they
    are not looked up again.
    """
    if existing is None:
        existing = stored_records(connection, entity, tenant_id, system, [record.external_id for record in records])
    chunks = (records[start : start + chunk_size] for start in range(0, len(records), chunk_size))
    return upsert_chunks(connection, entity, tenant_id, system, chunks, audit, existing, now, on_chunk)


def upsert_chunks(
    connection: sa.Connection,
    entity: Entity,
    tenant_id: str,
    system: str,
    chunks: Iterable[Sequence[Spelled]],
    audit: AuditRecorder,
    existing: dict[str, Known],
    now: dt.datetime | None = None,
    on_chunk: Callable[[int], None] | None = None,
) -> LoadCounts:
    """:func:`upsert` and the audit flush for a batch that comes chunk by chunk, inside the
    caller's one transaction; the chunks may still be in the making (``models.spelling``).

    The audit events are flushed after each chunk, so the memory a load needs is bounded by the
    chunk, not by the file (only the stored records it meets are kept throughout). Rows, counts
    and audit events (their order included) are the same as those of one :func:`upsert` and
    one flush.

    `existing` is what the store holds of all the batch's records (:func:`stored_records`),
    looked up before anything is written, as :func:`upsert` does: the planner has no statistics
    on rows written earlier in the same transaction, and lookups among them could degrade to
    scanning all of them for every chunk. `on_chunk` is told how many records are done after
    each chunk (progress bars).
    """
    now = now or dt.datetime.now(dt.UTC)
    seen: set[str] = set()
    inserted = unchanged = updated = conflicts = 0
    changed: list[_Changed] = []
    manifest: list[tuple[str, str]] = []
    with _NewRows(connection, entity) as new_rows:
        for chunk in chunks:
            seen.update(record.external_id for record in chunk)
            if len(seen) != inserted + unchanged + len(changed) + len(chunk):
                raise ValueError(f"{entity.entity_type}: the batch holds the same external id more than once")
            chunk_inserted, chunk_unchanged, chunk_changed = _insert_new(
                connection, entity, tenant_id, system, chunk, existing, audit, now, manifest, new_rows)
            if not new_rows.open:  # a bulk load's COPY may still be taking rows; it has no events of its own
                audit.flush(connection)
            inserted += chunk_inserted
            unchanged += chunk_unchanged
            changed.extend(chunk_changed)
            if on_chunk:
                on_chunk(inserted + unchanged + len(changed))
    _record_batch(audit, entity, system, manifest, now)
    audit.flush(connection)
    for start in range(0, len(changed), LOAD_CHUNK):
        chunk_updated, chunk_conflicts = _update_changed(connection, entity, tenant_id, system,
                                                         changed[start : start + LOAD_CHUNK], audit, now)
        audit.flush(connection)
        updated += chunk_updated
        conflicts += chunk_conflicts
    return LoadCounts(inserted, updated, unchanged, conflicts)


def _columns(entity: Entity, model: BaseModel, document: dict[str, Any]) -> dict[str, Any]:
    """The entity table's columns of a record: scalars as the model holds them, nested values as JSON."""
    columns = dict(model.__dict__)  # a canonical model keeps its fields there, and only them (extra="forbid")
    for name in entity.computed_fields:
        columns[name] = getattr(model, name)
    for name in entity.json_fields:
        columns[name] = document[name]
    return columns


class _NewRows:
    """Where a load sends its new rows on PostgreSQL when they come spelled as COPY text.

    A bulk entity's rows of all the chunks go by one COPY, kept open until the load's last chunk
    (or a chunk not spelled for COPY), so that the database stores one chunk while the next is
    validated instead of waiting for it; each chunk's own COPY would end with the database idle
    until the next chunk's first line. Other entities write their mapping rows and audit events
    after each chunk, so their COPY ends with the chunk."""

    def __init__(self, connection: sa.Connection, entity: Entity) -> None:
        self._connection = connection
        self._entity = entity
        self._exits = ExitStack()
        self._write: Callable[[Iterable[str]], None] | None = None

    def __enter__(self) -> _NewRows:
        return self

    def __exit__(self, *failure: Any) -> None:
        self._exits.__exit__(*failure)  # a failure aborts the COPY; the caller's transaction rolls back

    @property
    def open(self) -> bool:
        return self._write is not None

    def copy(self, lines: Iterable[str]) -> None:
        if self._write is None:
            columns = _ROW_COLUMNS + _columns_of(self._entity.model)
            self._write = self._exits.enter_context(copy_writer(self._connection, self._entity.table, columns))
        self._write(lines)
        if not self._entity.bulk:
            self.finish()

    def finish(self) -> None:
        """End the COPY, if one is open: the connection takes other statements again."""
        self._exits.close()
        self._write = None


def _insert_new(
    connection: sa.Connection,
    entity: Entity,
    tenant_id: str,
    system: str,
    records: Sequence[Spelled],
    existing: dict[str, Known],
    audit: AuditRecorder,
    now: dt.datetime,
    manifest: list[tuple[str, str]],
    new_rows: _NewRows,
) -> tuple[int, int, list[_Changed]]:
    """Insert the records not stored yet (not in `existing`), with their mappings and create
    events; returns how many were inserted, how many are stored unchanged, and the changed ones.

    A bulk entity's new records get neither: their (external id, row hash) go to `manifest`,
    which :func:`_record_batch` audits as a whole."""
    changed: list[_Changed] = []
    unchanged = 0
    for record in records:
        if (known := existing.get(record.external_id)) is not None:
            if known.row_hash == record.row_hash:
                unchanged += 1
            else:
                changed.append(_Changed(known, record))
    # Written in external-id order with ids handed out in the same order, so that every index of
    # the entity and mapping tables is filled from left to right.
    fresh = sorted((record for record in records if record.external_id not in existing), key=itemgetter(0))
    local_ids = new_ids(len(fresh))

    def rows() -> Iterator[dict[str, Any]]:
        """Each new record's row made as COPY asks for it, so that the database stores one part
        of the chunk while the next is made, instead of waiting for the whole chunk."""
        for record, local_id in zip(fresh, local_ids, strict=True):
            yield {"id": local_id, "tenant_id": tenant_id, "source_system": system,
                   "external_id": record.external_id, "row_hash": record.row_hash, "created_at": now,
                   "updated_at": now, **read_document(entity.model, record.document)}

    def lines() -> Iterator[str]:
        """The same rows as lines of COPY text, from the columns the records were spelled with."""
        after_id = f"\t{copy_text(tenant_id)}\t{copy_text(system)}\t"
        moments = f"\t{now}\t{now}\t"  # a timestamp as psycopg spells one (no character COPY escapes)
        external_ids = copy_texts([record.external_id for record in fresh])
        for record, local_id, external_id in zip(fresh, local_ids, external_ids, strict=True):
            yield f"{local_id}{after_id}{external_id}\t{record.row_hash}{moments}{record.copy_fields}\n"

    if not fresh:  # every record is stored already: nothing to send (not even an empty COPY)
        pass
    elif is_postgres(connection) and all(record.copy_fields is not None for record in fresh):
        new_rows.copy(lines())
    else:
        new_rows.finish()
        insert_rows(connection, entity.table, rows())
    if entity.bulk:
        manifest += [(record.external_id, record.row_hash) for record in fresh]
        return len(fresh), unchanged, changed
    local_id_of = dict(zip((record.external_id for record in fresh), local_ids, strict=True))
    for record in records:  # the create events in the order the records came
        if (local_id := local_id_of.get(record.external_id)) is not None:
            audit.record("create", entity.entity_type, local_id, occurred_at=now, new_state=JsonText(record.document),
                         details={"source_system": system, "external_id": record.external_id})
    insert_rows(connection, integration_mappings, [
        {"id": mapping_id, "tenant_id": tenant_id, "system": system, "entity_type": entity.entity_type,
         "external_id": record.external_id, "local_id": local_id, "last_sync_direction": "import",
         "synced_at": now, "created_at": now}
        for record, local_id, mapping_id in zip(fresh, local_ids, new_ids(len(fresh)), strict=True)
    ])
    return len(fresh), unchanged, changed


def batch_digest(rows: Sequence[tuple[str, str]]) -> str:
    """SHA-256 over the (external id, row hash) pairs of a batch, ordered by external id, each
    spelled ``external_id US row_hash LF``: what a bulk load's ``sync`` event vouches for."""
    return hashlib.sha256("".join(f"{external_id}\x1f{row_hash}\n" for external_id, row_hash in sorted(rows))
                          .encode()).hexdigest()


def _record_batch(
    audit: AuditRecorder, entity: Entity, system: str, manifest: list[tuple[str, str]], now: dt.datetime
) -> None:
    """The one audit event for the records a load of a bulk entity inserted (none if it inserted none).

    Its entity id names the batch; the rows it covers are the entity's rows of the source system
    whose ``created_at`` is the event's moment."""
    if not manifest:
        return
    manifest.sort()  # batch_digest's own sort then costs one pass
    audit.record("sync", entity.entity_type, new_ids(1)[0], occurred_at=now,
                 new_state={"inserted": len(manifest), "rows_sha256": batch_digest(manifest),
                            "first_external_id": manifest[0][0], "last_external_id": manifest[-1][0]},
                 details={"source_system": system, "digest": "sha256 of external_id US row_hash LF, by external_id"})


def _update_changed(
    connection: sa.Connection,
    entity: Entity,
    tenant_id: str,
    system: str,
    changed: list[_Changed],
    audit: AuditRecorder,
    now: dt.datetime,
) -> tuple[int, int]:
    """Update the changed records, keep the local versions that lost and write the update
    events; returns how many were updated and how many of them were conflicts."""
    if not changed:
        return 0, 0
    updates: list[tuple[str, dict[str, Any], dict[str, Any], JsonText]] = []
    for change in changed:
        document = read_document(entity.model, change.record.document)
        model = entity.model.model_validate({name: document[name] for name in entity.fields})
        values = {"row_hash": change.record.row_hash, "updated_at": now, **_columns(entity, model, document)}
        updates.append((change.known.local_id, values, document, JsonText(change.record.document)))
    conflicts = [(change.known.local_id, change.record.external_id) for change in changed
                 if change.known.changed_locally]
    previous = _previous_states(connection, entity, [record.known.local_id for record in changed])
    _record_conflicts(connection, entity, tenant_id, system, conflicts, previous, updates, now)
    _apply_updates(connection, entity, tenant_id, system, updates, previous, audit, now)
    return len(updates), len(conflicts)


def _apply_updates(
    connection: sa.Connection,
    entity: Entity,
    tenant_id: str,
    system: str,
    updates: list[tuple[str, dict[str, Any], dict[str, Any], JsonText]],
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
                                   for local_id, values, _, _ in updates])
    if not entity.bulk:  # bulk records have no mapping rows
        for ids in id_chunks(connection, [local_id for local_id, _, _, _ in updates]):
            connection.execute(
                integration_mappings.update()
                .where(
                    integration_mappings.c.tenant_id == tenant_id,
                    integration_mappings.c.system == system,
                    integration_mappings.c.entity_type == entity.entity_type,
                    among(connection, integration_mappings.c.local_id, ids),
                )
                .values(synced_at=now, last_sync_direction="import")
            )
    for local_id, _, document, document_json in updates:
        before = previous[local_id]
        change_set = {k: {"from": before.get(k), "to": v} for k, v in document.items() if before.get(k) != v}
        audit.record("update", entity.entity_type, local_id, occurred_at=now, previous_state=before,
                     new_state=document_json, change_set=change_set)


def _record_conflicts(
    connection: sa.Connection,
    entity: Entity,
    tenant_id: str,
    system: str,
    conflicts: list[tuple[str, str]],
    previous: dict[str, dict[str, Any]],
    updates: list[tuple[str, dict[str, Any], dict[str, Any], JsonText]],
    now: dt.datetime,
) -> None:
    """Seed 001: last write wins, and the losing local version is kept where a person can see it.
    The import is the later write: the source changed the record after we last synced it."""
    incoming = {local_id: document for local_id, _, document, _ in updates}
    insert_rows(connection, sync_conflicts, [
        {"id": conflict_id, "tenant_id": tenant_id, "system": system, "entity_type": entity.entity_type,
         "local_id": local_id, "external_id": external_id, "local_state": previous[local_id],
         "remote_state": incoming[local_id], "resolution": "remote_wins", "detected_at": now}
        for (local_id, external_id), conflict_id in zip(conflicts, new_ids(len(conflicts)), strict=True)
    ])


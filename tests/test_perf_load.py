"""The fast load path stores what the plain one did: chunked loads, COPY/executemany, ids, JSON.

The load was made fast by serialising each record once, inserting without SQLAlchemy's per-row
handling and going in chunks; these tests pin that none of it changed what ends up stored: the
same rows, the same row hashes, the same audit events and a chain that verifies, on SQLite and
PostgreSQL. The hash and checksum formulas are spelled out here independently of the code.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import time
import uuid
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from models.audit import AuditRecorder, verify_chain
from models.payments import BankTransaction
from models.projects import TimeReport
from models.documents import Attachment
from models.store import (
    JsonText, canonical_json, document_json, holds_no_floats, insert_rows, is_postgres, new_ids, open_store,
    read_document,
)
from models.tables import ENTITIES, Entity, audit_events, integration_mappings
from models.upsert import LoadCounts, spelled, upsert, upsert_chunks, upsert_in_chunks

BULK = ENTITIES["time_report"]
# The same records through the per-record path of master data (mapping rows, one event each).
MAPPED = dataclasses.replace(BULK, bulk=False)
TIME_REPORTS = BULK.table
NOW = dt.datetime(2026, 11, 20, 7, 15, 0, 123456, tzinfo=dt.UTC)
LATER = NOW + dt.timedelta(days=1)


def _json(value: Any) -> str:
    """The canonical JSON spelling as it has always been written."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _original_checksum(event: dict[str, Any], previous: str | None) -> str:
    """The audit checksum formula of models.audit before the fast path, spelled out independently."""
    moment = event["occurred_at"]
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    parts = (
        event["entity_id"], moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"), event["event_type"],
        _json(event["change_set"]), previous or "", event["tenant_id"], event["entity_type"],
        _json(event["previous_state"]), _json(event["new_state"]),
    )
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _reports(count: int, hours: dict[int, str] | None = None) -> list[tuple[str, TimeReport]]:
    hours = hours or {}
    people = ["Åsa Öberg", "Björn Säck", "Linnéa \"Lin\" Håkansson"]
    return [
        (
            f"13{n % 4}/2025-08-{1 + n % 28:02d}/{people[n % 3]}/{n}",
            TimeReport(employee=people[n % 3], project=f"13{n % 4}", date=dt.date(2025, 8, 1 + n % 28),
                       hours=Decimal(hours.get(n, str(1 + n % 16 / 2))),
                       description=None if n % 5 == 0 else f"Fönsterbyte\tetapp {n}",
                       hourly_rate=None if n % 7 == 0 else Decimal(f"{450 + n}.50")),
        )
        for n in range(count)
    ]


def _load(
    url: str, tenant: str, records: list[tuple[str, TimeReport]], now: dt.datetime, chunk_size: int | None,
    entity: Entity = MAPPED,
) -> LoadCounts:
    with open_store(url).begin() as connection:
        audit = AuditRecorder(tenant, "test")
        if chunk_size is None:
            counts = upsert(connection, entity, tenant, "workcloud", spelled(records), audit, now)
            audit.flush(connection)
            return counts
        return upsert_in_chunks(connection, entity, tenant, "workcloud", spelled(records), audit, now, chunk_size=chunk_size)


def _stored(url: str, tenant: str, records: list[tuple[str, TimeReport]]) -> dict[str, Any]:
    """What a tenant's loads left behind, without the random ids; `records` is the last delivery."""
    fields = list(TimeReport.model_fields)
    with open_store(url).connect() as connection:
        rows = connection.execute(
            sa.select(TIME_REPORTS).where(TIME_REPORTS.c.tenant_id == tenant).order_by(TIME_REPORTS.c.external_id)
        ).all()
        external_of = {row.id: row.external_id for row in rows}
        mappings = connection.execute(
            sa.select(integration_mappings.c.external_id, integration_mappings.c.local_id)
            .where(integration_mappings.c.tenant_id == tenant).order_by(integration_mappings.c.external_id)
        ).all()
        events = connection.execute(
            sa.select(audit_events).where(audit_events.c.tenant_id == tenant).order_by(audit_events.c.seq)
        ).all()
        report = verify_chain(connection, tenant)
    previous = None
    for event in events:
        assert event.previous_checksum == previous
        assert event.checksum == _original_checksum(event._asdict(), previous)
        previous = event.checksum
    delivered = dict(records)
    for row in rows:
        document = delivered[row.external_id].model_dump(mode="json")
        assert row.row_hash == hashlib.sha256(_json(document).encode()).hexdigest()
    return {
        "rows": [(row.external_id, row.row_hash, row.created_at, row.updated_at, *(getattr(row, f) for f in fields))
                 for row in rows],
        "mappings": [(external_id, external_of[local_id]) for external_id, local_id in mappings],
        "events": [(e.event_type, external_of.get(e.entity_id, "(batch)"), e.occurred_at, e.previous_state, e.new_state,
                    e.change_set, e.details, e.system_actor) for e in events],
        "chain": (report.ok, report.events_checked),
    }


def test_a_chunked_load_stores_what_one_upsert_stores(database_url: str) -> None:
    """Day 1: 23 new reports; day 2: 3 changed, 4 new, the rest unchanged. Chunks of 7 cross every
    boundary (and the updates come in a second pass), yet rows, hashes and audit events match."""
    day1, day2 = _reports(23), _reports(27, hours={2: "9.5", 11: "0.5", 20: "12"})

    plain = [_load(database_url, "plain", day1, NOW, None), _load(database_url, "plain", day2, LATER, None)]
    chunked = [_load(database_url, "chunked", day1, NOW, 7), _load(database_url, "chunked", day2, LATER, 7)]

    assert plain == chunked == [LoadCounts(inserted=23), LoadCounts(inserted=4, updated=3, unchanged=20)]
    expected, stored = _stored(database_url, "plain", day2), _stored(database_url, "chunked", day2)
    assert stored == expected
    assert stored["chain"] == (True, 30)
    assert [(kind, external_id) for kind, external_id, *_ in stored["events"][23:]] == [
        ("create", day2[n][0]) for n in range(23, 27)
    ] + [("update", day2[n][0]) for n in (2, 11, 20)]
    assert stored["events"][0][4] == day1[0][1].model_dump(mode="json")


def _digest(records: list[tuple[str, TimeReport]]) -> str:
    """A bulk batch's digest, spelled out: SHA-256 over "external id US row hash LF", by external id."""
    pairs = sorted((e, hashlib.sha256(_json(m.model_dump(mode="json")).encode()).hexdigest()) for e, m in records)
    return hashlib.sha256("".join(f"{e}\x1f{h}\n" for e, h in pairs).encode()).hexdigest()


def test_a_bulk_load_keeps_no_mappings_and_audits_what_each_load_inserted_once(database_url: str) -> None:
    """Time reports are bulk records: the same two days, plain and in chunks of 7, store the same
    rows with no mapping rows; each day's inserts are one sync event whose digest covers exactly
    them (and the table, by created_at, gives it back), while the 3 updates keep an event each."""
    day1, day2 = _reports(23), _reports(27, hours={2: "9.5", 11: "0.5", 20: "12"})

    plain = [_load(database_url, "plain", day1, NOW, None, BULK), _load(database_url, "plain", day2, LATER, None, BULK)]
    chunked = [_load(database_url, "chunked", day1, NOW, 7, BULK), _load(database_url, "chunked", day2, LATER, 7, BULK)]

    assert plain == chunked == [LoadCounts(inserted=23), LoadCounts(inserted=4, updated=3, unchanged=20)]
    stored = _stored(database_url, "chunked", day2)
    assert stored == _stored(database_url, "plain", day2)
    assert stored["mappings"] == [] and stored["chain"] == (True, 5)
    assert [(kind, target) for kind, target, *_ in stored["events"]] == [
        ("sync", "(batch)"), ("sync", "(batch)"), *(("update", day2[n][0]) for n in (2, 11, 20))]
    first, second = (event[4] for event in stored["events"][:2])
    assert first == {"inserted": 23, "rows_sha256": _digest(day1), "first_external_id": min(day1)[0],
                     "last_external_id": max(day1)[0]}
    assert second == {"inserted": 4, "rows_sha256": _digest(day2[23:]), "first_external_id": min(day2[23:])[0],
                      "last_external_id": max(day2[23:])[0]}
    with open_store(database_url).connect() as connection:
        created_later = connection.execute(
            sa.select(TIME_REPORTS.c.external_id, TIME_REPORTS.c.row_hash)
            .where(TIME_REPORTS.c.tenant_id == "chunked", TIME_REPORTS.c.created_at == LATER)
        ).all()
    assert hashlib.sha256("".join(f"{e}\x1f{h}\n" for e, h in sorted(created_later)).encode()).hexdigest() \
        == second["rows_sha256"]


def _as_text(url: str, table: sa.Table, tenants: tuple[str, ...]) -> dict[str, list[Any]]:
    """Each tenant's rows of `table` (but their ids) as the database spells them, by external id."""
    with open_store(url).connect() as connection:
        cast = "::text" if is_postgres(connection) else ""
        columns = ", ".join(f'"{c.name}"{cast}' for c in table.columns if c.name not in ("id", "tenant_id"))
        return {tenant: connection.execute(sa.text(f'SELECT {columns} FROM "{table.name}" WHERE tenant_id = :t '
                                                   "ORDER BY external_id"), {"t": tenant}).all()
                for tenant in tenants}


def test_records_spelled_for_copy_are_stored_as_the_documents_store_them(database_url: str) -> None:
    """Workers spell a record's columns as COPY text for PostgreSQL (SQLite ignores them): the
    rows hold the same text either way, control characters and backslashes included."""
    odd = TimeReport(employee="Åsa \\ Öberg\r\n", project="13\\14", date=dt.date(2025, 8, 2), hours=Decimal("0.25"),
                     description="a\tb\x0bc\x0cd\x08e ✓")
    records = _reports(23) + [("1313/x\ty\\z", odd)]  # an external id COPY must escape too
    for tenant, for_copy in (("copy", True), ("rows", False)):
        with open_store(database_url).begin() as connection:
            spelled_ = spelled(records, for_copy=for_copy)
            upsert_in_chunks(connection, BULK, tenant, "workcloud", spelled_, AuditRecorder(tenant, "test"), NOW,
                             chunk_size=7)

    stored = _as_text(database_url, TIME_REPORTS, ("copy", "rows"))
    assert len(stored["copy"]) == 24 and stored["copy"] == stored["rows"]
    assert _stored(database_url, "copy", records)["rows"] == _stored(database_url, "rows", records)["rows"]


def test_a_bulk_load_in_mixed_spellings_stores_alike_and_one_that_fails_midway_stores_nothing(
    database_url: str,
) -> None:
    """On PostgreSQL a bulk load keeps one COPY open across its chunks. A chunk not spelled for
    COPY ends it and the next one opens another: the rows are those of a plain load. A repeated
    external id found in the third chunk, while the COPY holds the first two, fails the load and
    leaves nothing behind."""
    records = _reports(21)
    chunks = [spelled(records[7 * n : 7 * n + 7], for_copy=n != 1) for n in range(3)]
    for tenant, batch in (("mixed", chunks), ("plain", [spelled(records)])):
        with open_store(database_url).begin() as connection:
            counts = upsert_chunks(connection, BULK, tenant, "workcloud", batch, AuditRecorder(tenant, "test"), {}, NOW)
        assert counts == LoadCounts(inserted=21)
    assert _stored(database_url, "mixed", records) == _stored(database_url, "plain", records)

    repeated = [chunks[0], chunks[2], [*chunks[1][:3], chunks[0][4]]]
    with pytest.raises(ValueError, match="the same external id more than once"):
        with open_store(database_url).begin() as connection:
            upsert_chunks(connection, BULK, "failed", "workcloud", repeated, AuditRecorder("failed", "test"), {}, NOW)
    assert _stored(database_url, "failed", records)["rows"] == []


def test_bank_transactions_spelled_for_copy_keep_their_booleans_numbers_and_nulls(database_url: str) -> None:
    """The other bulk entity: a computed boolean (is_income), signed money, an integer and nulls."""
    def transaction(n: int) -> BankTransaction:
        return BankTransaction(
            account="8327-9,123 456 789-0", booking_date=dt.date(2026, 1, 1 + n),
            value_date=None if n % 2 else dt.date(2026, 1, 2 + n), amount=Decimal(f"{(-1) ** n * n}.05"),
            currency="sek", description=f"Kortköp\\{n}\tICA", balance=None if n == 3 else Decimal("10.00"),
            bank="swedbank", status="booked", source_row=n + 2 if n % 3 else None,
        )

    records = [(f"tx-{n}", transaction(n)) for n in range(6)]
    table = ENTITIES["bank_transaction"].table
    for tenant, for_copy in (("copy", True), ("rows", False)):
        with open_store(database_url).begin() as connection:
            upsert_in_chunks(connection, ENTITIES["bank_transaction"], tenant, "swedbank",
                             spelled(records, for_copy=for_copy), AuditRecorder(tenant, "test"), NOW)

    stored = _as_text(database_url, table, ("copy", "rows"))
    with open_store(database_url).connect() as connection:
        typed = connection.execute(sa.select(table.c.amount, table.c.is_income, table.c.source_row)
                                   .where(table.c.tenant_id == "copy").order_by(table.c.external_id)).all()
    assert len(stored["copy"]) == 6 and stored["copy"] == stored["rows"]
    assert [tuple(row) for row in typed] == [
        (Decimal("0.05"), True, None), (Decimal("-1.05"), False, 3), (Decimal("2.05"), True, 4),
        (Decimal("-3.05"), False, None), (Decimal("4.05"), True, 6), (Decimal("-5.05"), False, 7),
    ]


def test_insert_rows_stores_what_sqlalchemy_stores(database_url: str) -> None:
    """Every kind of value the load writes, once through insert_rows and once through SQLAlchemy's
    own insert: the database holds the same text for both, and reads them back the same."""
    values = {
        "tenant_id": "acme", "source_system": "workcloud", "row_hash": "0" * 64,
        "created_at": NOW, "updated_at": dt.datetime(2026, 11, 20, 7, 15),  # aware and naive
        "employee": "Åsa \\ \"Öberg\"\t\n", "project": "1313", "date": dt.date(2025, 8, 1),
        "hours": Decimal("7.5"), "description": None, "hourly_rate": Decimal("1250000.50"),
    }
    event = {
        "tenant_id": "acme", "occurred_at": NOW, "event_type": "create", "entity_type": "time_report",
        "entity_id": "x", "system_actor": "test", "previous_state": None,
        "new_state": {"employee": "Åsa", "hours": "7.5", "list": [1, 2.5, None, True]}, "change_set": None,
        "details": {"external_id": "1313/…"}, "checksum": "c" * 64, "previous_checksum": None,
    }
    # The same values as a record's JSON document spells them (models.upsert reads new rows from it).
    as_json = json.loads(_json({k: v for k, v in values.items() if k not in ("description", "hourly_rate")}))
    assert as_json["date"] == "2025-08-01" and as_json["hours"] == "7.5" and as_json["updated_at"][10] == " "
    as_json |= {"created_at": NOW.isoformat(), "updated_at": "2026-11-20T07:15:00", "hourly_rate": "1250000.50",
                "description": None}
    with open_store(database_url).begin() as connection:
        insert_rows(connection, TIME_REPORTS, [values | {"id": "fast", "external_id": "fast"}])
        insert_rows(connection, TIME_REPORTS, [as_json | {"id": "spelled", "external_id": "spelled"}])
        connection.execute(TIME_REPORTS.insert(), [values | {"id": "plain", "external_id": "plain"}])
        insert_rows(connection, audit_events, [event | {"id": "fast"}])
        connection.execute(audit_events.insert(), [event | {"id": "plain"}])
        insert_rows(connection, audit_events, [event | {"id": "spelled", "occurred_at": NOW.isoformat()}])

    with open_store(database_url).connect() as connection:
        for table in (TIME_REPORTS, audit_events):
            columns = [c.name for c in table.columns if c.name not in ("id", "external_id", "seq")]
            # JSON as text only on SQLite: on PostgreSQL COPY has always written the canonical
            # spelling (SQLAlchemy's own insert another one); both read back the same below.
            raw_columns = [c for c in columns if not (is_postgres(connection) and isinstance(table.c[c].type, sa.JSON))]
            raw = ", ".join(f'"{c}"::text' if is_postgres(connection) else f'typeof("{c}"), "{c}"' for c in raw_columns)
            fast, spelled_, plain = (
                connection.execute(sa.text(f'SELECT {raw} FROM "{table.name}" WHERE id = :id'), {"id": key}).one()
                for key in ("fast", "spelled", "plain")
            )
            assert fast == spelled_ == plain, table.name
            read = [connection.execute(sa.select(*(table.c[c] for c in columns)).where(table.c.id == key)).one()
                    for key in ("fast", "spelled", "plain")]
            assert read[0] == read[1] == read[2], table.name


@pytest.mark.parametrize(
    "text",
    ['{"a":"Åsa \\"Ö\\"\\t","b":[1,2.5,1e16,-0.0,null,true],"c":{"d":"1250000.50"}}',
     '{"big":18446744073709551616,"small":-9223372036854775809}', '{"x":NaN,"y":Infinity,"z":-Infinity}',
     '{"ocr":"12345678901234567890"}'],
)
def test_a_document_reads_back_as_json_reads_it(text: str) -> None:
    """orjson reads what it can read exactly; integers beyond 64 bits and NaN go to json. A model
    that can hold anything (Attachment's OCR data) can hold them all."""
    read, expected = read_document(Attachment, text), json.loads(text)
    assert repr(read) == repr(expected)  # repr: NaN != NaN, and 1 == 1.0 would hide an int read as a float


def test_only_models_that_can_hold_an_integer_have_their_documents_searched_for_long_ones() -> None:
    from models import store

    searched = {e.entity_type for e in ENTITIES.values() if {"integer", "open"} & store._schema_holds(e.model)}
    assert searched == {"customer", "supplier", "journal_entry", "invoice", "attachment"}  # not the bulk ones


def test_pre_serialised_json_is_stored_as_given_and_reads_back_as_the_value(database_url: str) -> None:
    state = {"employee": "Åsa Öberg", "hours": "7.5", "note": "tab\there"}
    with open_store(database_url).begin() as connection:
        insert_rows(connection, audit_events, [{
            "id": "e1", "tenant_id": "acme", "occurred_at": NOW, "event_type": "create", "entity_type": "time_report",
            "entity_id": "x", "new_state": JsonText(canonical_json(state)), "checksum": "c" * 64,
        }])
    with open_store(database_url).connect() as connection:
        stored = connection.execute(sa.text("SELECT CAST(new_state AS TEXT) FROM audit_events")).scalar_one()
        read = connection.execute(sa.select(audit_events.c.new_state)).scalar_one()
    assert stored == _json(state)
    assert read == state


@pytest.mark.parametrize(
    "value",
    [
        {"b": "Åsa \"Ö\"\\\n\t\x00\x1f\x7f\u2028 ✓ 𝄞", "a": [1, 2.5, 1e16, -0.0, None, True, False],
         "c": {"z": {}, "y": []}},
        {"amount": Decimal("1250000.50"), "day": dt.date(2025, 8, 1), "at": NOW, "id": uuid.UUID(int=1)},
        None, "text", 12, [],
    ],
)
def test_canonical_json_is_spelled_as_before(value: Any) -> None:
    assert canonical_json(value) == _json(value)


def test_only_models_that_can_hold_a_float_are_spelled_by_json_dumps() -> None:
    open_models = {entity.entity_type for entity in ENTITIES.values() if not holds_no_floats(entity.model)}
    assert open_models == {"attachment"}  # ocr_data: dict[str, Any]


@pytest.mark.parametrize(
    "document",
    [
        {"employee": "Åsa \"Ö\"\\\n\t\x00\x1f\x7f\u2028 ✓ 𝄞", "hours": "7.5", "description": None, "n": 2**63,
         "rows": [{"z": 1, "a": True}, []], "k": {}},
        {"big": 2**70},  # beyond orjson's 64 bits: spelled by json.dumps
        {"amount": Decimal("1250000.50"), "day": dt.date(2025, 8, 1), "at": NOW},
    ],
)
def test_documents_are_spelled_as_canonical_json(document: dict[str, Any]) -> None:
    assert document_json(TimeReport, document) == _json(document)


def test_a_model_that_can_hold_floats_keeps_json_dumps_spelling() -> None:
    document = {"ocr_data": {"confidence": 1.5e-05, "ratio": 1e16, "nan": float("nan")}}
    assert document_json(Attachment, document) == _json(document) == (
        '{"ocr_data":{"confidence":1.5e-05,"nan":NaN,"ratio":1e+16}}'
    )


def test_new_ids_are_version_7_uuids_in_ascending_order_across_calls() -> None:
    before = time.time_ns() // 1_000_000
    ids = new_ids(5000)
    later = new_ids(3)
    after = time.time_ns() // 1_000_000
    parsed = [uuid.UUID(i) for i in ids]
    assert [str(u) for u in parsed] == ids
    assert {u.version for u in parsed} == {7}
    assert {u.variant for u in parsed} == {uuid.RFC_4122}
    assert ids == sorted(ids) and len(set(ids)) == 5000
    assert all(before <= u.int >> 80 <= after for u in parsed)  # the first 48 bits: Unix time in ms
    assert len({u.int & ((1 << 62) - 1) for u in parsed}) == 5000  # and random after it
    time.sleep(0.002)
    assert new_ids(1)[0] > max(ids + later)
    assert new_ids(0) == []

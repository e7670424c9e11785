"""The store against Fortnox: counts and totals, every discrepancy with both sides, and drift.

Seed 003 §6.5: the weekly reconciliation compares totals per entity and names the
discrepancies; the monthly audit compares everything and detects drift. Fortnox's list
endpoints carry what is compared (numbers, dates, totals), so a comparison costs one request
per 500 records. The list is read whole and the week chosen here, not with Fortnox's
fromdate/todate: a record whose date differs between the two sides is then still found on both.

A record is matched through its Fortnox id: the `integration_mappings` row that every import
and export writes. Kinds of discrepancy:

- *missing locally*: in Fortnox, not in the store (a record held in quarantine is not missing,
  it is counted apart: it waits for someone to fix it at the source, or someone decided to skip
  it; one closed as fixed is missing until the sync brings it);
- *missing in Fortnox*: in the store, with a Fortnox id Fortnox no longer knows, or never exported;
- *amount differs* / *value differs*: both have it, a compared field disagrees.

The weekly comparison takes the records dated in the week (and customers, which have no date)
and compares the amount and the date; the monthly one takes all records and compares every
field the list shows. *Drift* is a record changed in Fortnox after the last sync that covered
its entity (the sync log's cursor): fetched whole and mapped as the import would, its row hash
differs from the stored one, or it is not stored at all.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from typing import Any

import sqlalchemy as sa
from tasks.runtime import task
from pydantic import BaseModel

from connectors import fortnox as fx
from models.store import canonical_json, open_store
from models.tables import ENTITIES, Entity, integration_mappings, quarantine, sync_logs
from models.upsert import spelled
from tasks.mapping.fortnox import DATASETS, Dataset, map_records
from tasks.reconciliation.report import Figure, Period, Section, as_utc, group_digits

SYSTEM = "fortnox"
CHUNK = 500  # ids per IN (...) lookup, well under SQLite's limit of bound parameters
ALL = "alla / all"  # the period of records without a date (customers)


@dataclass(frozen=True)
class Target:
    """One Fortnox dataset as it is reconciled: its number, its date, its amounts (the first is the
    one totalled) and the fields the full comparison checks, each as (stored column, attribute of
    the Fortnox list item)."""

    dataset: str
    number: str
    date: str | None
    money: tuple[str, ...]
    fields: tuple[tuple[str, str], ...]

    @property
    def amount(self) -> str | None:
        return self.money[0] if self.money else None

    @property
    def source(self) -> Dataset:
        return DATASETS[self.dataset]

    @property
    def entity(self) -> Entity:
        return ENTITIES[self.source.entity_type]

    @cached_property
    def remote_key(self) -> str:
        """The list item's attribute holding the Fortnox id."""
        resource = self.source.resource
        return next(name for name, f in resource.item_type.model_fields.items() if f.alias == resource.id_field)

    @property
    def headline(self) -> tuple[str, str]:
        """The field shown for a record found on one side only: its amount, or else its first field."""
        return next(pair for pair in self.fields if pair[0] == (self.amount or self.fields[0][0]))

    def compared(self, full: bool) -> tuple[tuple[str, str], ...]:
        """Every field in the full comparison; the amount and the date (what places a record in a week) otherwise."""
        return self.fields if full else tuple(pair for pair in self.fields if pair[0] in (self.amount, self.date))


TARGETS = (
    Target("invoices", "invoice_number", "invoice_date", ("total", "amount_due"),
           (("total", "total"), ("amount_due", "balance"), ("invoice_date", "invoice_date"),
            ("due_date", "due_date"), ("customer_number", "customer_number"), ("currency", "currency"))),
    Target("supplier_invoices", "given_number", "invoice_date", ("total",),
           (("total", "total"), ("invoice_number", "invoice_number"), ("supplier_number", "supplier_number"),
            ("invoice_date", "invoice_date"), ("due_date", "due_date"), ("currency", "currency"))),
    Target("customers", "customer_number", None, (),
           (("name", "name"), ("registration_number", "organisation_number"), ("email", "email"))),
)


# --------------------------------------------------------------------------- values
def _normal(value: Any) -> Any:
    """A value as both sides can be compared: blanks are None, text is stripped."""
    if isinstance(value, str):
        return value.strip() or None
    return value


def _same(local: Any, remote: Any) -> bool:
    local, remote = _normal(local), _normal(remote)
    if isinstance(local, Decimal) or isinstance(remote, Decimal):
        return local is not None and remote is not None and Decimal(local) == Decimal(remote)
    return local == remote if type(local) is type(remote) else str(local) == str(remote)


def _text(value: Any) -> str | None:
    """A value as the report shows it: amounts with two decimals, dates ISO, nested values as JSON."""
    value = _normal(value)
    if value is None:
        return None
    if isinstance(value, Decimal):
        return format(value.quantize(Decimal("0.01")), "f")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (dict, list)):
        spelled = canonical_json(value)
        return spelled if len(spelled) <= 120 else spelled[:119] + "…"
    return str(value)


def _amount(value: Any) -> Decimal:
    return Decimal(value) if value is not None else Decimal("0.00")


# --------------------------------------------------------------------------- the two sides
# The store is read table by table and joined here: a join of the entity table with the mappings
# may be planned as a nested loop over both while PostgreSQL has no statistics on them yet (right
# after a large load), which took minutes for 100,000 invoices; each query alone is one scan.
def _fortnox_ids(connection: sa.Connection, tenant: str, target: Target) -> dict[str, str]:
    """Local id -> Fortnox id of every record of the target that Fortnox knows."""
    mapping = integration_mappings
    return dict(connection.execute(
        sa.select(mapping.c.local_id, mapping.c.external_id).where(
            mapping.c.tenant_id == tenant, mapping.c.system == SYSTEM,
            mapping.c.entity_type == target.entity.entity_type)
    ).all())


def _local_rows(connection: sa.Connection, tenant: str, target: Target, fortnox_ids: dict[str, str],
                period: Period | None = None, local_ids: list[str] | None = None) -> list[dict[str, Any]]:
    """The stored records of `target` with their Fortnox id (`remote_id`): those dated in `period`,
    or those of `local_ids`, or all."""
    table = target.entity.table
    columns = dict.fromkeys([target.number, *(c for c in (target.date, target.amount) if c),
                             *(local for local, _ in target.fields)])
    query = sa.select(table.c.id, *(table.c[c] for c in columns)).where(table.c.tenant_id == tenant)
    if period is not None and target.date:
        query = query.where(table.c[target.date] >= period.first, table.c[target.date] <= period.last)
    if local_ids is None:
        rows = [row._asdict() for row in connection.execute(query)]
    else:
        rows = [row._asdict() for start in range(0, len(local_ids), CHUNK)
                for row in connection.execute(query.where(table.c.id.in_(local_ids[start:start + CHUNK])))]
    for row in rows:
        row["remote_id"] = fortnox_ids.get(row["id"])
    return rows


def _remote_items(client: fx.FortnoxClient, target: Target) -> dict[str, fx.FortnoxRecord]:
    """Fortnox's whole list of `target`, by Fortnox id."""
    return {str(getattr(item, target.remote_key)): item for item in client.list(target.source.resource)}


def _dated_in(target: Target, period: Period | None, date: dt.date | None) -> bool:
    """Whether a record dated `date` is one the comparison counts: all are, in a full comparison."""
    return period is None or not target.date or (date is not None and period.first <= date <= period.last)


def _quarantined(connection: sa.Connection, tenant: str, target: Target) -> set[str]:
    """Fortnox ids of the target's records held in quarantine (their source_ref ends in the id): still
    open, or closed as ``skipped`` by someone who decided the record is not to be imported."""
    prefix = f"{SYSTEM}:{target.source.resource.path}/"
    refs = connection.execute(
        sa.select(quarantine.c.source_ref).where(
            quarantine.c.tenant_id == tenant, quarantine.c.system == SYSTEM,
            quarantine.c.dataset == f"{SYSTEM}_{target.dataset}",
            sa.or_(quarantine.c.status == "open", quarantine.c.resolution == "skipped"),
            quarantine.c.source_ref.startswith(prefix, autoescape=True))
    ).scalars()
    return {ref.removeprefix(prefix) for ref in refs}


# --------------------------------------------------------------------------- comparison
@dataclass(frozen=True)
class Comparison:
    """The store against Fortnox for one tenant: totals per entity and period, and each discrepancy."""

    full: bool
    totals: list[dict[str, Any]]
    discrepancies: list[dict[str, Any]]

    def figures(self) -> list[Figure]:
        counts = Counter(row["kind"] for row in self.discrepancies)
        found = len(self.discrepancies)
        return [
            Figure("Avvikelser / Discrepancies", group_digits(found), "bad" if found else "ok"),
            Figure("Saknas lokalt / Missing locally", group_digits(counts["missing_locally"])),
            Figure("Saknas i Fortnox / Missing in Fortnox", group_digits(counts["missing_remotely"])),
            Figure("Belopp skiljer / Amount differs", group_digits(counts["amount_differs"])),
        ]

    def sections(self) -> list[Section]:
        scope = ("Alla poster, alla fält i Fortnox listor. / All records, every field Fortnox lists show."
                 if self.full else "Poster daterade i perioden (kunder: alla); belopp och datum. / Records dated "
                 "in the period (customers: all); amount and date.")
        return [
            Section("reconciliation_totals", "Antal och belopp: lokalt mot Fortnox / Counts and totals: store against "
                    "Fortnox",
                    ("entity", "period", "local_count", "remote_count", "count_difference", "local_amount",
                     "remote_amount", "amount_difference", "missing_locally", "missing_remotely", "differs",
                     "quarantined"),
                    self.totals, scope),
            Section("discrepancies", "Avvikelser / Discrepancies",
                    ("entity", "kind", "local_id", "remote_id", "number", "field", "local_value", "remote_value",
                     "date", "note"),
                    self.discrepancies, "Varje avvikelse med id och värde på båda sidor. / Each discrepancy with "
                    "the ids and values of both sides.", "Inga avvikelser / No discrepancies"),
        ]


def _discrepancy(target: Target, kind: str, local: dict[str, Any] | None, remote_id: str | None,
                 remote: fx.FortnoxRecord | None, field: tuple[str, str], note: str | None = None) -> dict[str, Any]:
    local_field, remote_field = field
    date = (local or {}).get(target.date) if target.date else None
    if date is None and remote is not None and target.date:
        date = getattr(remote, target.date)
    return {
        "entity": target.entity.entity_type, "kind": kind,
        "local_id": local["id"] if local else None, "remote_id": remote_id,
        "number": local[target.number] if local else remote_id,
        "field": local_field,
        "local_value": _text(local[local_field]) if local else None,
        "remote_value": _text(getattr(remote, remote_field)) if remote is not None else None,
        "date": _text(date), "note": note,
    }


def _differences(target: Target, local: dict[str, Any], remote_id: str, remote: fx.FortnoxRecord,
                 full: bool) -> Iterator[dict[str, Any]]:
    for local_field, remote_field in target.compared(full):
        if not _same(local[local_field], getattr(remote, remote_field)):
            kind = "amount_differs" if local_field in target.money else "value_differs"
            yield _discrepancy(target, kind, local, remote_id, remote, (local_field, remote_field))


def compare_target(engine: sa.Engine, client: fx.FortnoxClient, tenant: str, target: Target,
                   period: Period | None) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Totals and discrepancies of one target: for the records dated in `period`, or all (`None`).

    The store is read in short transactions between the calls to Fortnox: on SQLite a transaction
    holds the write lock, which the client needs to renew the tenant's token.
    """
    full = period is None
    everything = _remote_items(client, target)
    remote = {key: item for key, item in everything.items()
              if _dated_in(target, period, getattr(item, target.date) if target.date else None)}
    with engine.connect() as connection:
        fortnox_ids = _fortnox_ids(connection, tenant, target)
        local_rows = _local_rows(connection, tenant, target, fortnox_ids, period)
        held = _quarantined(connection, tenant, target)
    by_remote = {row["remote_id"]: row for row in local_rows if row["remote_id"]}
    found: list[dict[str, Any]] = []
    pairs: list[tuple[dict[str, Any], str, fx.FortnoxRecord]] = []
    for remote_id, row in by_remote.items():
        item = everything.get(remote_id)  # dated out of the week in Fortnox is not missing
        if item is None:
            found.append(_discrepancy(target, "missing_remotely", row, remote_id, None, target.headline,
                                      "Finns inte längre i Fortnox / No longer in Fortnox"))
        else:
            pairs.append((row, remote_id, item))
    found += [_discrepancy(target, "missing_remotely", row, None, None, target.headline,
                           "Aldrig exporterad till Fortnox / Never exported to Fortnox")
              for row in local_rows if not row["remote_id"]]
    unmatched = sorted(set(remote) - by_remote.keys() - held)
    elsewhere: dict[str, dict[str, Any]] = {}
    if not full:  # stored, but dated out of the week here
        local_ids = {remote_id: local_id for local_id, remote_id in fortnox_ids.items()}
        with engine.connect() as connection:
            rows = _local_rows(connection, tenant, target, fortnox_ids,
                               local_ids=[local_ids[r] for r in unmatched if r in local_ids])
        elsewhere = {row["remote_id"]: row for row in rows}
    for remote_id in unmatched:
        if remote_id in elsewhere:
            pairs.append((elsewhere[remote_id], remote_id, remote[remote_id]))
        else:
            found.append(_discrepancy(target, "missing_locally", None, remote_id, remote[remote_id], target.headline,
                                      "Inte synkad hit / Not synced to the store"))
    for row, remote_id, item in pairs:
        found += _differences(target, row, remote_id, item, full)
    found.sort(key=lambda d: (d["kind"], str(d["date"] or ""), _sortable(d["remote_id"] or d["number"])))
    quarantined = [remote[r] for r in held if r in remote]
    return _totals(target, period, local_rows, list(remote.values()), quarantined, found), found


def _sortable(key: str | None) -> tuple[int, str]:
    """Fortnox numbers sort as numbers: 9 before 10."""
    text = key or ""
    return (len(text), text) if text.isdigit() else (10**6, text)


def _totals(target: Target, period: Period | None, local_rows: list[dict[str, Any]],
            remote: list[fx.FortnoxRecord], quarantined: list[fx.FortnoxRecord],
            found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Counts and amounts of both sides per period: the report's week, or each month of the full comparison."""

    def bucket(date: dt.date | None) -> str:
        if not target.date:
            return ALL
        if period is not None:
            return period.label
        return date.strftime("%Y-%m") if date else "–"

    def remote_bucket(item: fx.FortnoxRecord) -> str:
        return bucket(getattr(item, target.date) if target.date else None)

    sides: dict[str, Counter[str]] = defaultdict(Counter)
    amounts: dict[str, dict[str, Decimal]] = defaultdict(lambda: {"local": Decimal("0.00"), "remote": Decimal("0.00")})
    for row in local_rows:
        key = bucket(row[target.date] if target.date else None)
        sides[key]["local_count"] += 1
        if target.amount:
            amounts[key]["local"] += _amount(row[target.amount])
    for item in remote:
        sides[remote_bucket(item)]["remote_count"] += 1
        if target.amount:
            amounts[remote_bucket(item)]["remote"] += _amount(getattr(item, target.amount))
    for item in quarantined:
        sides[remote_bucket(item)]["quarantined"] += 1
    for row in found:
        counted = "differs" if row["kind"] in ("amount_differs", "value_differs") else row["kind"]
        sides[bucket(dt.date.fromisoformat(row["date"]) if row["date"] else None)][counted] += 1
    rows = []
    for key in sorted(sides) or [bucket(None) if period is not None else ALL]:  # nothing on either side: one row
        counts = sides[key]
        local_amount = amounts[key]["local"] if target.amount else None
        remote_amount = amounts[key]["remote"] if target.amount else None
        rows.append({
            "entity": target.entity.entity_type, "period": key,
            "local_count": counts["local_count"], "remote_count": counts["remote_count"],
            "count_difference": counts["local_count"] - counts["remote_count"],
            "local_amount": local_amount, "remote_amount": remote_amount,
            "amount_difference": local_amount - remote_amount if target.amount else None,
            "missing_locally": counts["missing_locally"], "missing_remotely": counts["missing_remotely"],
            "differs": counts["differs"], "quarantined": counts["quarantined"],
        })
    return rows


@task(name="compare-with-fortnox")
def compare_with_fortnox(database_url: str, client: fx.FortnoxClient, tenant: str, period: Period | None) -> Comparison:
    """Every target compared: the records dated in `period` (weekly), or all of them (`None`, monthly)."""
    totals: list[dict[str, Any]] = []
    discrepancies: list[dict[str, Any]] = []
    for target in TARGETS:
        target_totals, found = compare_target(open_store(database_url), client, tenant, target, period)
        totals += target_totals
        discrepancies += found
    return Comparison(period is None, totals, discrepancies)


# --------------------------------------------------------------------------- drift
def last_covered(connection: sa.Connection, tenant: str, target: Target) -> dt.datetime | None:
    """Up to when Fortnox's changes of the target are in the store: the cursor of the latest sync that
    loaded (its log's time when it kept none); None when no sync ever did."""
    row = connection.execute(
        sa.select(sync_logs.c.details, sync_logs.c.created_at)
        .where(sync_logs.c.tenant_id == tenant, sync_logs.c.system == SYSTEM,
               sync_logs.c.data_type == target.entity.entity_type, sync_logs.c.status.in_(("success", "partial")))
        .order_by(sync_logs.c.created_at.desc()).limit(1)
    ).first()
    if row is None:
        return None
    cursor = (row.details or {}).get("cursor")
    return as_utc(dt.datetime.fromisoformat(cursor)) if cursor else as_utc(row.created_at)


@dataclass(frozen=True)
class _Stored:
    local_id: str
    row_hash: str
    model: BaseModel


def _stored(connection: sa.Connection, tenant: str, target: Target, remote_ids: list[str]) -> dict[str, _Stored]:
    """The stored records of these Fortnox ids, by Fortnox id."""
    entity, asked = target.entity, set(remote_ids)
    remote_of = {local: remote for local, remote in _fortnox_ids(connection, tenant, target).items() if remote in asked}
    wanted = list(remote_of)
    query = sa.select(entity.table.c.id, entity.table.c.row_hash, *(entity.table.c[f] for f in entity.fields))
    found: dict[str, _Stored] = {}
    for start in range(0, len(wanted), CHUNK):
        for row in connection.execute(query.where(entity.table.c.id.in_(wanted[start:start + CHUNK]))):
            values = row._asdict()
            local_id, digest = values.pop("id"), values.pop("row_hash")
            found[remote_of[local_id]] = _Stored(local_id, digest, entity.model.model_validate(values))
    return found


def drift(connection: sa.Connection, tenant: str, target: Target, records: Iterable[fx.FortnoxRecord],
          since: dt.datetime | None) -> list[dict[str, Any]]:
    """The records Fortnox changed since `since` that differ from the store: one row per field that
    differs, or one for a record not stored at all. `records` are whole records, as the import reads them."""
    records = list(records)
    mapped = map_records(target.source, records)
    id_field = target.source.resource.id_field
    invalid = [(str(issue.record.get(id_field)), issue) for issue in mapped.issues]
    stored = _stored(connection, tenant, target, [ext for ext, _ in mapped.records] + [ext for ext, _ in invalid])
    rows: list[dict[str, Any]] = []

    def row(kind: str, remote_id: str, known: _Stored | None, field: str, local: Any, remote: Any,
            note: str | None = None) -> dict[str, Any]:
        return {"entity": target.entity.entity_type, "kind": kind, "local_id": known.local_id if known else None,
                "remote_id": remote_id, "field": field, "local_value": _text(local), "remote_value": _text(remote),
                "synced_until": since, "note": note}

    headline = target.headline[0]
    remote_hashes = [record.row_hash for record in spelled(mapped.records)]  # the hashes an import would store
    for (remote_id, model), remote_hash in zip(mapped.records, remote_hashes, strict=True):
        known = stored.get(remote_id)
        if known is None:
            rows.append(row("created_remotely", remote_id, None, headline, None, getattr(model, headline)))
        elif known.row_hash != remote_hash:
            local_values, remote_values = known.model.model_dump(mode="json"), model.model_dump(mode="json")
            rows += [row("changed_remotely", remote_id, known, name, local_values[name], remote_values[name])
                     for name in target.entity.fields if getattr(known.model, name) != getattr(model, name)]
    for remote_id, issue in invalid:
        known = stored.get(remote_id)
        rows.append(row("changed_remotely" if known else "created_remotely", remote_id, known, issue.field, None,
                        issue.description, "Underkänd av kontrollen: hamnar i karantän vid nästa synk / Fails "
                        "validation: will be quarantined on the next sync"))
    return sorted(rows, key=lambda r: (_sortable(r["remote_id"]), r["field"]))


@task(name="detect-drift")
def detect_drift(database_url: str, tenant: str, target: Target, records: list[fx.FortnoxRecord],
                 since: dt.datetime | None) -> list[dict[str, Any]]:
    with open_store(database_url).connect() as connection:
        return drift(connection, tenant, target, records, since)


def drift_section(rows: list[dict[str, Any]]) -> Section:
    return Section("drift", "Drift: ändrat i Fortnox utan synk / Drift: changed in Fortnox without a sync",
                   ("entity", "kind", "local_id", "remote_id", "field", "local_value", "remote_value", "synced_until",
                    "note"),
                   rows, "Poster som ändrats i Fortnox efter den senaste synken som täcker dem och som skiljer sig från "
                   "det lagrade. / Records changed in Fortnox after the last sync covering them that differ from "
                   "what is stored.", "Ingen drift / No drift")

"""What the store's own bookkeeping says about a period: the sync summary (seed 003 §6.5, daily), the
backlogs of dead letters and quarantined rows and how old they are, and the audit chain.

Nothing here asks a remote system, so it is cheap whatever the store holds: it reads the
bookkeeping tables (`sync_logs`, `bank_imports`, `dead_letters`, `quarantine`, `audit_events`)
by tenant and time, never the entity tables.

How the numbers are counted, per integration (system) and entity:

- *synced*: records written (inserted or updated) by a sync run; a bank import's imported rows.
  A log line without those details counts its `record_count`.
- *skipped*: records a run saw unchanged; a bank import's duplicates.
- *failed*: dead letters queued (a call refused for good, seed 003 §6.2) and a bank import's
  rejected rows.
- *quarantined*: records a run held back for failing a quality check (INT-01-VAL-003).
- A run *failed* when its log says so (a bank import when it imported nothing and had errors); it
  was *retried* when a later run of the same system and entity followed in the period, and
  *recovered* when one of those succeeded.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from tasks.runtime import task

from models.audit import verify_chain
from models.batches import verify_batches
from models.store import open_store, tenants_in
from models.tables import audit_events, bank_imports, dead_letters, integrations, quarantine, sync_logs
from tasks.reconciliation.report import DayVolume, Figure, Period, Section, as_utc, group_digits, swedish_day

AGE_BUCKETS = (("age_0_7", 7), ("age_8_30", 30), ("age_31_90", 90), ("age_over_90", None))


def tenants(connection: sa.Connection) -> list[str]:
    """Every tenant with an integration or anything in the bookkeeping tables."""
    return tenants_in(connection, (integrations, sync_logs, bank_imports, dead_letters, quarantine, audit_events))


@dataclass(frozen=True)
class Run:
    """One sync run or bank import, as the summary counts it."""

    at: dt.datetime
    system: str
    entity: str
    status: str
    synced: int
    skipped: int
    failed: int
    quarantined: int
    error: str | None


def _sync_runs(connection: sa.Connection, tenant: str, start: dt.datetime, end: dt.datetime) -> list[Run]:
    logs = connection.execute(
        sa.select(sync_logs.c.created_at, sync_logs.c.system, sync_logs.c.data_type, sync_logs.c.status,
                  sync_logs.c.record_count, sync_logs.c.details, sync_logs.c.error_message)
        .where(sync_logs.c.tenant_id == tenant, sync_logs.c.created_at >= start, sync_logs.c.created_at < end)
    )
    runs = []
    for at, system, entity, status, count, details, error in logs:
        details = details or {}
        written = details["inserted"] + details["updated"] if "inserted" in details else count
        runs.append(Run(as_utc(at), system, entity, status, written, details.get("unchanged", 0), 0,
                        details.get("quarantined", 0), error))
    imports = connection.execute(
        sa.select(bank_imports.c.imported_at, bank_imports.c.bank, bank_imports.c.imported, bank_imports.c.duplicates,
                  bank_imports.c.error_count, bank_imports.c.file_name)
        .where(bank_imports.c.tenant_id == tenant, bank_imports.c.imported_at >= start, bank_imports.c.imported_at < end)
    )
    for at, bank, imported, duplicates, errors, file_name in imports:
        status = "success" if not errors else "partial" if imported else "failed"
        runs.append(Run(as_utc(at), bank or "bank", "bank_transaction", status, imported, duplicates, errors, 0,
                        f"{file_name}: {errors} rader med fel / rows with errors" if errors else None))
    return sorted(runs, key=lambda run: (run.at, run.system, run.entity))


def _queued_letters(connection: sa.Connection, tenant: str, start: dt.datetime,
                    end: dt.datetime) -> list[tuple[dt.datetime, str, str]]:
    """(when, system, entity) of the dead letters queued in the window: each a record that failed."""
    rows = connection.execute(
        sa.select(dead_letters.c.queued_at, dead_letters.c.system, dead_letters.c.entity_type)
        .where(dead_letters.c.tenant_id == tenant, dead_letters.c.queued_at >= start, dead_letters.c.queued_at < end)
    )
    return [(as_utc(at), system, entity or "–") for at, system, entity in rows]


def _pending_letters(connection: sa.Connection, tenant: str, as_of: dt.datetime) -> list[sa.Row[Any]]:
    """Dead letters pending at `as_of`: queued before it and not resolved until after it."""
    return list(connection.execute(
        sa.select(dead_letters.c.system, dead_letters.c.entity_type, dead_letters.c.error_category,
                  dead_letters.c.queued_at)
        .where(dead_letters.c.tenant_id == tenant, dead_letters.c.queued_at < as_of,
               sa.or_(dead_letters.c.status == "pending", dead_letters.c.resolved_at >= as_of))
    ))


def _open_quarantine(connection: sa.Connection, tenant: str, as_of: dt.datetime) -> list[sa.Row[Any]]:
    """Rows held back before `as_of` and not resolved until after it."""
    return list(connection.execute(
        sa.select(quarantine.c.system, quarantine.c.dataset, quarantine.c.error_code, quarantine.c.created_at)
        .where(quarantine.c.tenant_id == tenant, quarantine.c.created_at < as_of,
               sa.or_(quarantine.c.status == "open", quarantine.c.resolved_at >= as_of))
    ))


def _retried(runs: list[Run]) -> dict[int, str]:
    """Per run (by id()), whether a later run of its system and entity followed: "recovered" when one
    of them succeeded, "yes" otherwise, "no" when none did. `runs` are in time order."""
    by_key: dict[tuple[str, str], list[Run]] = defaultdict(list)
    for run in runs:
        by_key[(run.system, run.entity)].append(run)
    verdicts: dict[int, str] = {}
    for same in by_key.values():
        later_success = later_any = False
        for run in reversed(same):
            verdicts[id(run)] = "recovered" if later_success else "yes" if later_any else "no"
            later_any, later_success = True, later_success or run.status == "success"
    return verdicts


def _backlog(rows: Iterable[sa.Row[Any]], key_names: tuple[str, ...]) -> list[dict[str, Any]]:
    """Count and oldest day per key (the row's leading columns; its last is the time queued)."""
    groups: dict[tuple[Any, ...], list[dt.datetime]] = defaultdict(list)
    for row in rows:
        groups[tuple(row[:-1])].append(row[-1])
    return [
        {**dict(zip(key_names, key, strict=True)), "count": len(times), "oldest": swedish_day(min(times))}
        for key, times in sorted(groups.items(), key=lambda item: tuple(str(k) for k in item[0]))
    ]


@dataclass(frozen=True)
class SyncSummary:
    """Seed 003 §6.5 Daily Sync Summary for one tenant and period, and the chart's daily volumes."""

    period: Period
    records: list[dict[str, Any]]
    problem_runs: list[dict[str, Any]]
    dead_letter_backlog: list[dict[str, Any]]
    quarantine_backlog: list[dict[str, Any]]
    volumes: list[DayVolume]

    def total(self, column: str) -> int:
        return sum(row[column] for row in self.records)

    def figures(self) -> list[Figure]:
        handled = sum(self.total(c) for c in ("synced", "skipped", "failed", "quarantined"))
        errors = self.total("failed") + self.total("quarantined")
        rate = errors / handled if handled else 0.0
        pending = sum(row["count"] for row in self.dead_letter_backlog)
        held = sum(row["count"] for row in self.quarantine_backlog)
        return [
            Figure("Synkade poster / Records synced", group_digits(self.total("synced"))),
            Figure("Misslyckade poster / Records failed", group_digits(self.total("failed")),
                   "bad" if self.total("failed") else "ok"),
            Figure("I karantän / Quarantined", group_digits(self.total("quarantined")),
                   "warn" if self.total("quarantined") else "ok"),
            Figure("Felfrekvens / Error rate", f"{rate * 100:.1f} %".replace(".", ","),
                   "bad" if rate >= 0.05 else "warn" if rate else "ok"),
            Figure("Misslyckade körningar / Failed runs", group_digits(self.total("failed_runs")),
                   "bad" if self.total("failed_runs") else "ok"),
            Figure("Döda brev i kö / Dead-letter backlog", group_digits(pending), "warn" if pending else "ok"),
            Figure("Öppen karantän / Open quarantine", group_digits(held), "warn" if held else "ok"),
        ]

    def sections(self) -> list[Section]:
        return [
            Section("sync_summary", "Synksammanfattning / Sync summary",
                    ("system", "entity", "runs", "failed_runs", "synced", "skipped", "failed", "quarantined"),
                    self.records,
                    "Per integration och entitet under perioden. / Per integration and entity in the period."),
            Section("problem_runs", "Körningar med fel / Runs that failed or were partial",
                    ("time", "system", "entity", "status", "records", "error", "retried"), self.problem_runs,
                    "Körd igen: en senare körning av samma integration och entitet under perioden. / Retried: a "
                    "later run of the same integration and entity in the period."),
            Section("dead_letter_backlog", "Döda brev i kö / Dead-letter backlog",
                    ("system", "entity", "error_category", "count", "oldest"), self.dead_letter_backlog,
                    "Anrop som nekats för gott och väntar på åtgärd vid periodens slut (ledgerflow dlq). / Calls "
                    "refused for good, pending at the end of the period (ledgerflow dlq)."),
            Section("quarantine_backlog", "Öppen karantän / Open quarantine",
                    ("system", "dataset", "error_code", "count", "oldest"), self.quarantine_backlog,
                    "Poster som hållits tillbaka av kvalitetskontrollen och ännu är öppna. / Records held back by "
                    "the quality checks and still open."),
        ]


def sync_summary(connection: sa.Connection, tenant: str, period: Period) -> SyncSummary:
    all_runs = _sync_runs(connection, tenant, period.chart_start, period.end)
    letters = _queued_letters(connection, tenant, period.chart_start, period.end)
    runs = [run for run in all_runs if run.at >= period.start]
    records: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for run in runs:
        records[(run.system, run.entity)].update(runs=1, failed_runs=int(run.status == "failed"), synced=run.synced,
                                                 skipped=run.skipped, failed=run.failed, quarantined=run.quarantined)
    by_day: dict[dt.date, Counter[str]] = defaultdict(Counter)
    for run in all_runs:
        by_day[swedish_day(run.at)].update(synced=run.synced, skipped=run.skipped, failed=run.failed,
                                           quarantined=run.quarantined)
    for at, system, entity in letters:
        by_day[swedish_day(at)]["failed"] += 1
        if at >= period.start:
            records[(system, entity)]["failed"] += 1
    columns = ("runs", "failed_runs", "synced", "skipped", "failed", "quarantined")
    retried = _retried(runs)
    return SyncSummary(
        period,
        [{"system": system, "entity": entity, **{c: counts[c] for c in columns}}
         for (system, entity), counts in sorted(records.items())],
        [{"time": run.at, "system": run.system, "entity": run.entity, "status": run.status,
          "records": run.synced, "error": run.error, "retried": retried[id(run)]}
         for run in runs if run.status in ("failed", "partial")],
        _backlog(_pending_letters(connection, tenant, period.end), ("system", "entity", "error_category")),
        _backlog(_open_quarantine(connection, tenant, period.end), ("system", "dataset", "error_code")),
        [DayVolume(day, **by_day[day]) for day in period.chart_days],
    )


def backlog_ageing(connection: sa.Connection, tenant: str, as_of: dt.datetime) -> Section:
    """Pending dead letters and open quarantine by age at `as_of`, in the buckets of the monthly audit."""
    queues = (("dead_letter", _pending_letters(connection, tenant, as_of)),
              ("quarantine", _open_quarantine(connection, tenant, as_of)))
    rows = []
    for queue, items in queues:
        groups: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
        for item in items:
            age = (as_of - as_utc(item[-1])).days
            bucket = next(name for name, limit in AGE_BUCKETS if limit is None or age <= limit)
            groups[(item[0], item[1] or "–")][bucket] += 1
        rows += [{"queue": queue, "system": system, "entity": entity,
                  **{name: counts[name] for name, _ in AGE_BUCKETS}, "count": sum(counts.values())}
                 for (system, entity), counts in sorted(groups.items())]
    return Section("backlog_ageing", "Åldersfördelning: döda brev och karantän / Ageing: dead letters and quarantine",
                   ("queue", "system", "entity", *(name for name, _ in AGE_BUCKETS), "count"), rows,
                   f"Ålder i hela dagar den {as_of.date().isoformat()} (UTC). / Age in whole days on "
                   f"{as_of.date().isoformat()} (UTC).")


def audit_chain(connection: sa.Connection, tenant: str) -> tuple[Section, Figure]:
    """The tenant's audit chain walked from its first event (seed 003 §7.5), and every bulk load's
    rows checked against its event (``models.batches``), as a table and a figure."""
    checked = verify_chain(connection, tenant)
    broken = checked.first_break
    loads = verify_batches(connection, tenant)
    changed = [load for load in loads if not load.ok]
    reason = broken.reason if broken else (
        f"{changed[0].entity_type} load at seq {changed[0].seq}: {changed[0].problem}" if changed else None)
    row = {"events_checked": checked.events_checked, "chain": "intact" if checked.ok else "broken",
           "break_seq": broken.seq if broken else None, "break_id": broken.id if broken else None,
           "bulk_loads_checked": len(loads), "bulk_loads_changed": len(changed), "reason": reason}
    section = Section("audit_chain", "Revisionsspårets kedja / Audit-chain verification",
                      ("events_checked", "chain", "break_seq", "break_id", "bulk_loads_checked", "bulk_loads_changed",
                       "reason"), [row],
                      "Varje händelses SHA-256 kedjar den föregående; den första brutna länken anges. Varje massladdning "
                      "(tidrapporter, banktransaktioner) kontrolleras mot sina lagrade rader. / Each event's SHA-256 "
                      "chains the one before; the first broken link is named. Each bulk load (time reports, bank "
                      "transactions) is checked against its stored rows.")
    if broken is not None:
        figure = Figure("Revisionskedja / Audit chain", f"Bruten vid nr / Broken at seq {broken.seq}", "bad")
    elif changed:
        figure = Figure("Revisionskedja / Audit chain", f"Rader ändrade i {len(changed)} massladdningar / "
                        f"Rows changed in {len(changed)} bulk loads", "bad")
    else:
        figure = Figure("Revisionskedja / Audit chain", "Obruten / Intact", "ok")
    return section, figure


@task(name="summarise-syncs")
def summarise_syncs(database_url: str, tenant: str, period: Period) -> SyncSummary:
    with open_store(database_url).connect() as connection:
        return sync_summary(connection, tenant, period)


@task(name="audit-store")
def audit_store(database_url: str, tenant: str, as_of: dt.datetime) -> tuple[Section, Section, Figure]:
    """The monthly audit's store-only part: backlog ageing and the audit chain."""
    with open_store(database_url).connect() as connection:
        return (backlog_ageing(connection, tenant, as_of), *audit_chain(connection, tenant))

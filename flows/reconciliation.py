"""Reconciliation reports (seed 003 §6.5): daily sync summary, weekly reconciliation, monthly audit.

Every report holds the sync summary of its period and the chart of daily volumes and error
rate. The weekly one adds the store against Fortnox for the week's records and the payment
matching; the monthly one compares every record, looks for drift, ages the dead letters and
quarantine, and walks the audit chain. Each is written per tenant as HTML and CSV under
`settings.reports_dir`, and published as Prefect artifacts that link to the files.

Without a date a run reports on the last whole period (yesterday, last week, last month, in
Swedish time), which is what the schedules want; with one, on the period containing it.
Fortnox unreachable for a tenant does not stop the report: it is written with a notice saying
what could not be compared, and the run ends failed so that it shows.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from connectors.http import ApiError
from flows.alerting import notify_failure
from flows.connections import fortnox_client
from flows.settings import Settings
from models.integrations import connected
from models.store import open_store
from tasks.extract import fetch_fortnox_changes
from tasks.reconciliation import payments
from tasks.reconciliation.compare import TARGETS, compare_with_fortnox, detect_drift, drift_section, last_covered
from tasks.reconciliation.report import (
    KIND_TITLES, STOCKHOLM, Kind, Period, Report, ReportDate, Section, WrittenReport, write_report,
)
from tasks.reconciliation.summary import audit_store, summarise_syncs, tenants
from tasks.runtime import flow, publish_markdown, publish_table, run_logger, task

match_payments = task(name="match-payments")(payments.match_payments)


class ReconciliationIncomplete(RuntimeError):
    """Some report could not compare with Fortnox; it was written with a notice saying so."""


def report_period(kind: Kind, date: dt.date | str | None, today: dt.date | None = None) -> Period:
    """The period of `date` (a date or ISO text), or the last whole one before today in Swedish time."""
    if date:
        return Period.containing(kind, date if isinstance(date, dt.date) else dt.date.fromisoformat(date))
    return Period.completed_before(kind, today or dt.datetime.now(STOCKHOLM).date())


@task(name="write-report")
def write_report_files(report: Report, base: Path) -> WrittenReport:
    return write_report(report, base)


def _payment_sections(database_url: str, tenant: str, period: Period) -> list[Section]:
    with open_store(database_url).connect() as connection:
        matching = match_payments(connection, tenant, (period.first, period.last))
    return [Section(part.key, part.title, part.columns, part.as_rows(), headings=payments.COLUMNS,
                    codes=payments.CODES) for part in matching.sections()]


def _compare(settings: Settings, report: Report, full: bool) -> None:
    """Add the store-against-Fortnox sections (and, in full, drift) to `report`. Drift reads what
    Fortnox changed since each entity's last sync; for an entity never synced, that is everything."""
    engine = open_store(settings.database_url)
    tenant, period = report.tenant, report.period
    with fortnox_client(settings, engine, tenant) as client:
        comparison = compare_with_fortnox(settings.database_url, client, tenant, None if full else period)
        report.figures += comparison.figures()
        report.sections += comparison.sections()
        if not full:
            return
        drifted: list[dict[str, Any]] = []
        for target in TARGETS:
            with engine.connect() as connection:
                since = last_covered(connection, tenant, target)
            fetched = fetch_fortnox_changes(client, target.source, since)
            drifted += detect_drift(settings.database_url, tenant, target, fetched.records, since)
        report.sections.append(drift_section(drifted))


def build_report(settings: Settings, kind: Kind, tenant: str, period: Period) -> Report:
    """The report of one tenant. What the period is for comes first: the comparison with Fortnox and
    the audit chain, then the payments, then the syncs and their backlogs. A failed comparison
    with Fortnox becomes a notice, and the report is marked incomplete."""
    summary = summarise_syncs(settings.database_url, tenant, period)
    report = Report(tenant, period, dt.datetime.now(dt.UTC), volumes=summary.volumes)
    if kind != "daily":
        with open_store(settings.database_url).connect() as connection:
            has_fortnox = bool(connected(connection, "fortnox", tenant))
        if has_fortnox:
            try:
                _compare(settings, report, full=kind == "monthly")
            except ApiError as error:
                run_logger().error("%s: Fortnox could not be compared: %s", tenant, error)
                report.notices.append(f"Fortnox kunde inte jämföras / Fortnox could not be compared: {error}")
                report.complete = False
        else:
            report.notices.append("Ingen ansluten Fortnox-integration: ingen jämförelse med Fortnox. / No connected "
                                  "Fortnox integration: nothing compared with Fortnox.")
    ageing: list[Section] = []
    if kind == "monthly":
        backlog_ageing, chain, chain_figure = audit_store(settings.database_url, tenant, period.end)
        report.sections.append(chain)
        report.figures.append(chain_figure)
        ageing.append(backlog_ageing)
    if kind != "daily":
        report.sections += _payment_sections(settings.database_url, tenant, period)
    report.figures += summary.figures()
    report.sections += summary.sections() + ageing
    return report


def _artifact_value(value: Any) -> Any:
    return value if value is None or isinstance(value, (int, float, str, bool)) else str(value)


def publish(report: Report, written: WrittenReport) -> None:
    """A markdown artifact with the key figures and links to the files, and a table artifact of the
    report's main table (the sync summary, or the totals against Fortnox)."""
    slug = re.sub(r"[^a-z0-9-]+", "-", f"reconciliation-{report.period.kind}-{report.tenant}".lower()).strip("-")
    lines = [f"# {KIND_TITLES[report.period.kind]}: {report.tenant}, {report.period.label}", ""]
    lines += [f"> {notice}" for notice in report.notices]
    lines += [f"- **{figure.label}:** {figure.value}" for figure in report.figures]
    lines += ["", f"Rapport / Report: [{written.html.name}]({written.html.resolve().as_uri()})", "",
              "CSV: " + " · ".join(f"[{path.name}]({path.resolve().as_uri()})" for path in written.csv.values())]
    publish_markdown(key=slug, markdown="\n".join(lines),
                     description=f"{KIND_TITLES[report.period.kind]} {report.period.label}")
    main = next((s for s in report.sections if s.key == "reconciliation_totals"), report.section("sync_summary"))
    publish_table(key=f"{slug}-table", table=[{c: _artifact_value(row.get(c)) for c in main.columns}
                                              for row in main.rows],
                  description=f"{main.title} ({written.html.resolve().as_uri()})")


@flow(name="reconciliation", on_failure=notify_failure)
def reconciliation(kind: Kind, tenant: str | None = None, date: ReportDate | None = None) -> list[WrittenReport]:
    """Write the daily, weekly or monthly reconciliation report of one tenant (or of every tenant).

    `date` (a day of the period; default: the last whole period) is a `datetime.date`: the UI shows a
    date picker, and parameter validation refuses what is not a date before the run starts.
    """
    if kind not in KIND_TITLES:
        raise ValueError(f"unknown report {kind!r}; known: {', '.join(KIND_TITLES)}")
    settings = Settings()
    period = report_period(kind, date)
    with open_store(settings.database_url).connect() as connection:
        chosen = [tenant] if tenant else tenants(connection) or [settings.tenant]
    written = []
    for name in chosen:
        report = build_report(settings, kind, name, period)
        written.append(write_report_files(report, settings.reports_dir))
        publish(report, written[-1])
        run_logger().info("%s %s %s: %s", kind, name, period.label, written[-1].html)
    incomplete = [w for w in written if not w.complete]
    if incomplete:
        raise ReconciliationIncomplete("Fortnox could not be compared; the reports were written without it: "
                                       + ", ".join(str(w.html) for w in incomplete))
    return written


if __name__ == "__main__":
    import sys

    reconciliation(sys.argv[1] if len(sys.argv) > 1 else "daily")  # type: ignore[arg-type]

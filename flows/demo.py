"""The demo: every flow there is, run against the sandbox data and the configured store.

It tells a small story a finance team will recognise: the morning's WorkCloud exports arrive
(one file with mistakes, one that is not an export at all), are ingested, ingested again
(nothing changes), and the next day's export marks a project as completed (one update). The
bank exports are imported twice (the second time every row is a duplicate). Then the Fortnox
sandbox starts: the tenant connects over OAuth, everything is imported under Fortnox's real
rate limit, a second import asks once per dataset, the property system's customers and rent
invoices are exported, the supplier invoices are validated (approved in Fortnox, flagged,
one approved and one rejected by the reviewer with a complaint through the Graph sandbox), and
the daily, weekly and monthly reconciliation reports are written. Last come the alert check,
the metrics, a retention dry run and the audit chain. The data stays in the store afterwards.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import httpx
import sqlalchemy as sa
from rich.table import Table

from connectors.sandbox import property_system
from connectors.sandbox.bank import write_ica, write_swedbank_company
from connectors.sandbox import graph as graph_sandbox
from connectors.sandbox.fortnox import FortnoxSandbox
from connectors.sandbox.invoice_corpus import BUYER
from connectors.sandbox.graph import GraphSandbox
from connectors.sandbox.workcloud import generate_company, render, write_exports
from connectors.workcloud import ExportKind
from flows.bank_import import bank_import
from flows.connections import connect_fortnox, fortnox_client, sandbox_code, sandbox_endpoints
from flows import reviews
from flows.console import console, print_bank_import, print_export, print_ingest, print_sync, print_validation
from flows.export import export
from flows.alerting import alert_check
from flows.import_sync import import_sync
from flows.invoice_validation import supplier_invoice_validation
from flows.reconciliation import reconciliation
from flows.retention import retention
from flows.settings import Settings
from flows.workcloud_ingest import workcloud_ingest
from models.audit import AuditRecorder, verify_chain
from models.batches import verify_batches
from models.bookkeeping import quarantined_rows, resolve_quarantined
from models.store import open_store
from models.tables import ENTITIES, audit_events
from models.upsert import spelled, upsert
from tasks.metrics import write_metrics
from tasks.reconciliation.report import STOCKHOLM

BROKEN_PROJECTS = """Projektnummer;Projektnamn;Projektledare;Status;Startdatum;Slutdatum;Kund;Adress;Budget;Kostnadsställe
2101;Kvarnen ROT 1931;Åsa Öberg;Aktiv;2025-03-01;2025-12-31;Brf Kvarnen;Kvarngatan 4, Uppsala;1 250 000;4002
2102;;Göran Ekström;Aktiv;2025-04-01;2025-10-31;Uppsalahem AB;Råbyvägen 2, Uppsala;300 000;4003
2103;Solrosen NB 2024;Karin Nyström;Pausad;2025-05-01;2026-05-31;Brf Solrosen;Solvägen 9, Märsta;4 800 000;4004
2104;Ängen REN 1978;Linnéa Åberg;Aktiv;2025-06-01;2025-01-31;Sigtunahem AB;Ängsvägen 1, Sigtuna;75 000;4005
"""


def _section(title: str) -> None:
    console.rule(f"[bold]{title}")


def run_demo(workdir: Path) -> None:
    os.environ.setdefault("LEDGERFLOW_REPORTS_DIR", str(workdir / "reports"))
    settings = Settings()
    exports = workdir / "workcloud"
    _section("1. This morning's WorkCloud exports arrive")
    paths = write_exports(exports)
    (exports / "projektregister_tillagg.csv").write_bytes(BROKEN_PROJECTS.encode("cp1252"))
    (exports / "anteckningar.csv").write_text("Datum;Anteckning\n2025-10-01;Ring Stender om fakturan\n", encoding="utf-8")
    for path in sorted(exports.iterdir()):
        console.print(f"  {path}")

    _section("2. Ingest: quality gate, mapping, idempotent load")
    print_ingest(workcloud_ingest(directory=str(exports), tenant=settings.tenant))

    engine = open_store(settings.database_url)
    with engine.connect() as connection:
        held = quarantined_rows(connection, settings.tenant, status=None)
    table = Table("file", "line", "code", "field", "description", "suggested action", title="Quarantine (INT-01-VAL-003)")
    for row in held:
        table.add_row(row.source_ref, str(row.row_number), row.error_code, row.field, row.description, row.suggested_action)
    console.print(table)
    # A person handles one held-back row: `ledgerflow quarantine resolve ID --resolution skipped`.
    with engine.begin() as connection:
        open_rows = quarantined_rows(connection, settings.tenant)
        if open_rows:
            resolve_quarantined(connection, settings.tenant, "skipped", "demo", ids=[open_rows[0].id])
            console.print(f"`ledgerflow quarantine resolve {open_rows[0].id[:8]} --resolution skipped` closed "
                          f"{open_rows[0].source_ref} line {open_rows[0].row_number}; {len(open_rows) - 1} still "
                          "open (`ledgerflow quarantine list`)")

    _section("3. The same folder again: nothing is loaded twice")
    with engine.connect() as connection:
        events_before = connection.execute(sa.select(sa.func.count()).select_from(audit_events)).scalar_one()
    print_ingest(workcloud_ingest(directory=str(exports), tenant=settings.tenant))
    with engine.connect() as connection:
        events_after = connection.execute(sa.select(sa.func.count()).select_from(audit_events)).scalar_one()
    console.print(f"audit events before {events_before:,}, after {events_after:,}")

    _section("4. Next day: one project is marked completed in WorkCloud")
    company = generate_company()
    changed = company.projects[0] | {"status": "completed"}
    next_day = workdir / "workcloud-next-day"
    next_day.mkdir(parents=True, exist_ok=True)
    (next_day / "projektregister.csv").write_bytes(
        render(ExportKind.PROJECTS, [changed, *company.projects[1:]], "excel").encode("cp1252")
    )
    console.print(f"project {changed['project_number']} {changed['project_name']}: status -> completed")
    print_ingest(workcloud_ingest(directory=str(next_day), tenant=settings.tenant))

    _bank(settings, workdir)
    _fortnox(settings, engine)
    _operations(settings, engine, workdir)

    _section("12. The audit trail")
    with engine.connect() as connection:
        report = verify_chain(connection, settings.tenant)
        loads = verify_batches(connection, settings.tenant)
    state = "[green]intact[/]" if report.ok else f"[red]broken at seq {report.first_break.seq}[/]"
    console.print(f"audit chain of tenant {settings.tenant}: {state}, {report.events_checked:,} events verified")
    held = sum(check.ok for check in loads)
    console.print(f"bulk loads (time reports, bank transactions), each audited by one event: {held} of {len(loads)} "
                  f"still hold the {sum(check.inserted for check in loads):,} rows their events vouch for")
    console.print(
        f"\nThe data stays in {engine.url.render_as_string(hide_password=True)}; look at it with "
        f"`ledgerflow db status`, `ledgerflow audit verify`, or any SQLite / PostgreSQL client. "
        f"Exports written: {', '.join(str(p) for p in paths.values())}"
    )
    from flows.local_server import read_state

    server = read_state()
    console.print(
        f"These runs are recorded in the Prefect UI at {server.ui_url}." if server else
        "These runs ran locally, without Prefect. To see runs in the Prefect UI, `ledgerflow server start` "
        "(it prints the UI's address) and run the demo or any command again."
    )


def _bank(settings: Settings, workdir: Path) -> None:
    _section("5. Bank import: the company account at Swedbank and the site manager's ICA card")
    bank_dir = workdir / "bank"
    bank_dir.mkdir(parents=True, exist_ok=True)
    statements = [write_swedbank_company(bank_dir / "Transaktionsrapport_2026-11.csv", 120),
                  write_ica(bank_dir / "ICA_kort_oktober.csv", 40)]
    print_bank_import(bank_import([str(p) for p in statements], tenant=settings.tenant), dry_run=False, row_log=False)
    console.print("\nthe same files again: every row is a duplicate, nothing is stored twice")
    for report in bank_import([str(p) for p in statements], tenant=settings.tenant):
        console.print(f"  {report.file}: imported {report.imported}, duplicates {report.duplicates}")
    console.print(f"the files stay in {bank_dir}, the folder the bank-import-on-demand deployment imports "
                  "(`ledgerflow sandbox bank-export` writes a fresh Swedbank and ICA-banken export there)")



def _fortnox(settings: Settings, engine: sa.Engine) -> None:
    tenant = settings.tenant
    with FortnoxSandbox(seed=7, supplier_invoices=30, invoices=15) as sandbox:
        _section(f"6. Fortnox: connect tenant {tenant} to the sandbox at {sandbox.url} (OAuth, tokens stored encrypted)")
        code = sandbox_code(sandbox.url, settings.fortnox_redirect_uri)
        connect_fortnox(settings, engine, tenant, code, sandbox_endpoints(sandbox.url))
        console.print("connected; the sandbox enforces Fortnox's 25 requests per 5 seconds, and so do we")

        _section("7. Import sync: everything changed since the last run (the first run takes all)")
        print_sync(import_sync(tenant=tenant))
        stats = httpx.get(f"{sandbox.url}/_sandbox/stats", timeout=10).json()
        console.print(f"requests {stats['requests']}, rate-limit violations {stats['rate_limit_violations']}, "
                      f"most in any 5 s {stats['max_requests_in_5s_window']}")
        httpx.post(f"{sandbox.url}/_sandbox/stats/reset", timeout=10)
        print_sync(import_sync(tenant=tenant))
        stats = httpx.get(f"{sandbox.url}/_sandbox/stats", timeout=10).json()
        console.print(f"second run: {stats['requests']} requests, one per dataset, nothing changed")

        _section("8. Export: the property system's customers and rent invoices to Fortnox")
        customers, invoices = property_system.customers_and_invoices()
        with engine.begin() as connection:
            audit = AuditRecorder(tenant, "demo/property-system")
            upsert(connection, ENTITIES["customer"], tenant, property_system.SYSTEM, spelled(customers), audit)
            upsert(connection, ENTITIES["invoice"], tenant, property_system.SYSTEM, spelled(invoices), audit)
            audit.flush(connection)
        print_export(export(tenant=tenant))
        console.print("again (nothing is due, nothing is created twice):")
        print_export(export(tenant=tenant))

        with GraphSandbox() as graph:
            _invoice_validation(tenant, graph)

        _section("10. Reconciliation: the day's syncs, the week and the month against Fortnox, payments matched")
        today = dt.datetime.now(STOCKHOLM).date().isoformat()  # this period, not the last whole one: the demo's data is new
        for kind in ("daily", "weekly", "monthly"):
            for written in reconciliation(kind, tenant, today):
                figures = "; ".join(f"{f.label}: {f.value}" for f in written.figures[:4])
                console.print(f"[bold]{kind}[/] {written.period.label}: {figures}")
                console.print(f"  {written.html} (+ {len(written.csv)} CSV)")


def _operations(settings: Settings, engine: sa.Engine, workdir: Path) -> None:
    _section("11. Operations: the alert check, Prometheus metrics, retention (dry run)")
    checked = alert_check(tenant=settings.tenant)
    console.print(f"alerts raised now: {len(checked.sent)} ({', '.join(a.code for a in checked.sent) or 'none'}); "
                  "without a webhook or e-mail set up they are stored (`ledgerflow alerts list`)")
    metrics = workdir / "metrics.prom"
    write_metrics(engine, metrics)
    series = [line for line in metrics.read_text().splitlines() if line and not line.startswith("#")]
    console.print(f"metrics written to {metrics} ({len(series)} series), e.g.:")
    for line in [x for x in series if x.startswith(("sync_records_total", "dlq_size"))][:3]:
        console.print(f"  {line}")
    planned = retention(tenant=settings.tenant, dry_run=True)
    due = [step for step in planned.steps if step.rows]
    console.print(f"retention dry run: {len(planned.steps)} rules checked, {len(due)} with rows past their period "
                  "(everything here is new); `ledgerflow retention run --apply` would act on them")


def sandbox_company_env(graph: GraphSandbox) -> dict[str, str]:
    """Settings for the validation against the sandboxes: the sandbox company is the buyer, and
    complaints go out through the Graph sandbox."""
    return {
        "LEDGERFLOW_COMPANY_NAME": BUYER.name, "LEDGERFLOW_COMPANY_ORG_NR": BUYER.org_nr,
        "LEDGERFLOW_COMPANY_VAT_NUMBER": BUYER.vat_number,
        "LEDGERFLOW_COMPANY_INVOICE_ADDRESS": json.dumps(BUYER.invoice_address),
        "LEDGERFLOW_COMPANY_CONTACT_EMAIL": graph_sandbox.MAILBOXES[0],
        "LEDGERFLOW_GRAPH_TENANT_ID": graph_sandbox.TENANT_ID, "LEDGERFLOW_GRAPH_CLIENT_ID": graph_sandbox.CLIENT_ID,
        "LEDGERFLOW_GRAPH_CLIENT_SECRET": graph_sandbox.CLIENT_SECRET, "LEDGERFLOW_GRAPH_SENDER": graph_sandbox.MAILBOXES[0],
        "LEDGERFLOW_GRAPH_API_URL": graph.url, "LEDGERFLOW_GRAPH_AUTHORITY_URL": graph.url,
        "LEDGERFLOW_INVOICE_REVIEWER_EMAIL": graph_sandbox.MAILBOXES[0],
    }


def _invoice_validation(tenant: str, graph: GraphSandbox) -> None:
    _section("9. Supplier invoices: PDF -> fields -> project -> approve in Fortnox, or flag for review")
    os.environ.update(sandbox_company_env(graph))
    settings = Settings()
    print_validation(supplier_invoice_validation(tenant=tenant))
    waiting = reviews.list_flagged(settings, tenant)
    table = Table("löpnr", "leverantör", "förfaller", "konf.", "förslag", "skäl", title="Att granska (most urgent first)")
    for r in waiting[:8]:
        table.add_row(r.given_number, r.supplier_name or "", str(r.due_date), f"{r.confidence} %",
                      r.project_number or "-", "; ".join(r.reasons)[:70])
    console.print(table)
    suggested = next((r for r in waiting if r.band == "suggestion" and r.project_number), None)
    if suggested:
        done = reviews.approve(settings, tenant, suggested.given_number, "matilda")
        with fortnox_client(settings, open_store(settings.database_url), tenant) as client:
            in_fortnox = client.supplier_invoice(done.given_number)
        console.print(f"matilda approved {done.given_number}; Fortnox now says Project={in_fortnox.project!r}, "
                      f"Comments={in_fortnox.comments!r}")
    unclear = min((r for r in waiting if r is not suggested), key=lambda r: r.confidence, default=None)
    if unclear:
        done = reviews.reject(settings, tenant, unclear.given_number, "matilda",
                              "Fakturan anger inte vilket av våra projekt den gäller")
        mail = graph.state.messages[-1]
        console.print(f"rejected {done.given_number}: complaint '{mail['subject']}' to "
                      f"{', '.join(done.complaint['to'])} with {', '.join(done.complaint['attachments'])}")
    console.print("the next run decides nothing again (nothing changed in Fortnox):")
    print_validation(supplier_invoice_validation(tenant=tenant))

"""Reconciliation reports: exact counts from a store we fill, and the store against the Fortnox sandbox.

The daily and monthly store-only parts run on SQLite and PostgreSQL; the weekly and monthly
comparisons run our real client over HTTP against the sandbox after a real import. The HTML
is checked as headless Chromium renders it.
"""

from __future__ import annotations

import csv
import datetime as dt
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from conftest import in_ci
from typer.testing import CliRunner

from connectors import fortnox as fx
from connectors.sandbox.fortnox import FortnoxSandbox
from flows.cli_reports import report_app
from flows.connections import connect_fortnox, fortnox_client, sandbox_code, sandbox_endpoints
from flows.import_sync import import_sync
from flows.reconciliation import reconciliation, report_period
from flows.settings import Settings
from models.audit import AuditRecorder
from models.invoices import Invoice
from models.secrets import SecretCipher
from models.store import is_postgres, open_store
from models.tables import ENTITIES, audit_events, bank_imports, dead_letters, quarantine, sync_logs
from models.upsert import spelled, upsert
from tasks.reconciliation.report import Period, WrittenReport

KEY = SecretCipher.new_key()
DAY = "2026-03-14"  # a Saturday in Swedish winter time (UTC+1)


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def table(written: WrittenReport, key: str) -> list[list[str]]:
    """A table of the report as its CSV file has it: the heading row, then the rows."""
    with written.csv[key].open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


def records(written: WrittenReport, key: str) -> list[dict[str, str]]:
    """The rows of a table of the report as its CSV file has them, by column."""
    with written.csv[key].open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def reports_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "reports"
    monkeypatch.setenv("LEDGERFLOW_REPORTS_DIR", str(folder))
    return folder


# --------------------------------------------------------------------------- filling the store
def log(connection: sa.Connection, at: str, system: str, entity: str, status: str, count: int = 0,
        details: dict | None = None, error: str | None = None, tenant: str = "acme") -> None:
    connection.execute(sync_logs.insert().values(
        id=str(uuid.uuid4()), tenant_id=tenant, system=system, sync_type="import", data_type=entity, status=status,
        record_count=count, error_message=error, details=details or {}, created_at=utc(at)))


def letter(connection: sa.Connection, queued: str, entity: str, category: str, status: str = "pending",
           resolved: str | None = None) -> None:
    connection.execute(dead_letters.insert().values(
        id=str(uuid.uuid4()), tenant_id="acme", system="fortnox", entity_type=entity, entity_id=str(uuid.uuid4()),
        request={"method": "POST", "url": "https://api.fortnox.se/3/x"}, attempts=[], error_category=category,
        status=status, queued_at=utc(queued), resolved_at=utc(resolved) if resolved else None))


def held(connection: sa.Connection, created: str, system: str, dataset: str, code: str,
         resolved: str | None = None) -> None:
    ref = uuid.uuid4().hex
    connection.execute(quarantine.insert().values(
        id=str(uuid.uuid4()), tenant_id="acme", system=system, dataset=dataset, source_ref=f"{system}:x/{ref}",
        record={"ref": ref}, record_hash=ref, error_code=code, field="total", description="saknas",
        suggested_action="rätta", status="resolved" if resolved else "open", created_at=utc(created),
        resolved_at=utc(resolved) if resolved else None, resolution="manual_fix" if resolved else None))


def fill_day(url: str) -> None:
    """One Saturday of a tenant's bookkeeping, and some of the days around it."""
    with open_store(url).begin() as c:
        counts = {"inserted": 5, "updated": 2, "unchanged": 3, "quarantined": 0, "dead_letters": 1}
        log(c, "2026-03-14T06:00:00", "fortnox", "invoice", "success", 10, counts)
        log(c, "2026-03-14T07:00:00", "fortnox", "invoice", "failed", error="503 Service Unavailable")
        log(c, "2026-03-14T08:00:00", "fortnox", "invoice", "success", 1, {"inserted": 1, "updated": 0, "unchanged": 0})
        # 00:30 on the 14th in Stockholm, the 13th in UTC: the 14th's
        log(c, "2026-03-13T23:30:00", "fortnox", "supplier_invoice", "partial", 5,
            {"inserted": 4, "updated": 0, "unchanged": 1, "quarantined": 2})
        log(c, "2026-03-14T09:00:00", "workcloud", "project", "success", 7)  # an older writer: no details
        log(c, "2026-03-14T23:30:00", "fortnox", "customer", "success", 100, {"inserted": 100, "updated": 0})  # the 15th
        log(c, "2026-03-10T12:00:00", "fortnox", "customer", "success", 20, {"inserted": 20, "updated": 0})
        log(c, "2026-03-14T10:00:00", "fortnox", "invoice", "failed", tenant="other")
        c.execute(bank_imports.insert().values(
            id=str(uuid.uuid4()), tenant_id="acme", imported_at=utc("2026-03-14T10:00:00"), file_name="mars.csv",
            file_size=900, sha256="a" * 64, bank="swedbank", format="swedbank_company", account="8327-9",
            rows=12, imported=9, duplicates=2, error_count=1, errors=[{"row": 7, "code": "E", "message": "x"}],
            warnings=[]))
        letter(c, "2026-03-14T07:00:00", "invoice", "server")
        letter(c, "2026-02-01T12:00:00", "customer", "validation")
        letter(c, "2026-03-05T12:00:00", "customer", "validation", "resolved", resolved="2026-03-20T12:00:00")
        letter(c, "2026-03-01T12:00:00", "customer", "validation", "resolved", resolved="2026-03-02T12:00:00")
        held(c, "2026-03-13T23:30:00", "fortnox", "fortnox_supplier_invoices", "VAL-MODEL")
        held(c, "2026-03-13T23:30:00", "fortnox", "fortnox_supplier_invoices", "VAL-MODEL")
        held(c, "2026-03-12T08:00:00", "workcloud", "workcloud_projects", "VAL-REQUIRED", resolved="2026-03-13T09:00:00")
        held(c, "2026-03-10T08:00:00", "workcloud", "workcloud_projects", "VAL-REQUIRED", resolved="2026-03-20T09:00:00")


# --------------------------------------------------------------------------- daily
def test_the_daily_summary_counts_each_section_exactly(store_env: str, reports_dir: Path) -> None:
    fill_day(store_env)

    [written] = reconciliation("daily", tenant="acme", date=DAY)

    assert written.period == Period("daily", dt.date(2026, 3, 14), dt.date(2026, 3, 14))
    assert table(written, "sync_summary") == [
        ["system", "entity", "runs", "failed_runs", "synced", "skipped", "failed", "quarantined"],
        ["fortnox", "invoice", "3", "1", "8", "3", "1", "0"],
        ["fortnox", "supplier_invoice", "1", "0", "4", "1", "0", "2"],
        ["swedbank", "bank_transaction", "1", "0", "9", "2", "1", "0"],
        ["workcloud", "project", "1", "0", "7", "0", "0", "0"],
    ]
    assert table(written, "problem_runs") == [
        ["time", "system", "entity", "status", "records", "error", "retried"],
        ["2026-03-13T23:30:00+00:00", "fortnox", "supplier_invoice", "partial", "4", "", "no"],
        ["2026-03-14T07:00:00+00:00", "fortnox", "invoice", "failed", "0", "503 Service Unavailable", "recovered"],
        ["2026-03-14T10:00:00+00:00", "swedbank", "bank_transaction", "partial", "9",
         "mars.csv: 1 rader med fel / rows with errors", "no"],
    ]
    # Pending at the end of the day: the one resolved on the 20th still was, the one resolved on the 2nd was not.
    assert table(written, "dead_letter_backlog") == [
        ["system", "entity", "error_category", "count", "oldest"],
        ["fortnox", "customer", "validation", "2", "2026-02-01"],
        ["fortnox", "invoice", "server", "1", "2026-03-14"],
    ]
    # Open at the end of the day: the row resolved on the 20th still was, the one resolved on the 13th was not.
    assert table(written, "quarantine_backlog") == [
        ["system", "dataset", "error_code", "count", "oldest"],
        ["fortnox", "fortnox_supplier_invoices", "VAL-MODEL", "2", "2026-03-14"],
        ["workcloud", "workcloud_projects", "VAL-REQUIRED", "1", "2026-03-10"],
    ]
    volumes = table(written, "daily_volumes")
    assert volumes[0] == ["day", "synced", "skipped", "failed", "quarantined", "error_rate"]
    assert [row[0] for row in volumes[1:]] == [(dt.date(2026, 3, 1) + dt.timedelta(days=n)).isoformat()
                                              for n in range(14)]
    assert [row for row in volumes[1:] if row[1:5] != ["0", "0", "0", "0"]] == [
        ["2026-03-01", "0", "0", "1", "0", "1.0000"],  # the dead letter resolved on the 2nd
        ["2026-03-05", "0", "0", "1", "0", "1.0000"],
        ["2026-03-10", "20", "0", "0", "0", "0.0000"],
        ["2026-03-14", "28", "6", "2", "2", "0.1053"],
    ]
    assert {f.label: f.value for f in written.figures} == {
        "Synkade poster / Records synced": "28", "Misslyckade poster / Records failed": "2",
        "I karantän / Quarantined": "2", "Felfrekvens / Error rate": "10,5 %",
        "Misslyckade körningar / Failed runs": "1", "Döda brev i kö / Dead-letter backlog": "3",
        "Öppen karantän / Open quarantine": "3",
    }
    folder = reports_dir / "acme" / "daily-2026-03-14"
    assert written.html == folder / "report.html"
    assert sorted(p.name for p in folder.iterdir()) == [
        "daily_volumes.csv", "dead_letter_backlog.csv", "problem_runs.csv", "quarantine_backlog.csv", "report.html",
        "sync_summary.csv"]


def test_every_tenant_gets_its_report_and_the_cli_prints_where(store_env: str, reports_dir: Path) -> None:
    fill_day(store_env)

    result = CliRunner().invoke(report_app, ["daily", "--date", DAY])

    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in reports_dir.iterdir()) == ["acme", "other"]
    assert str(reports_dir / "other" / "daily-2026-03-14" / "report.html") in result.output.replace("\n", "")
    [other] = reconciliation("daily", tenant="other", date=DAY)
    assert table(other, "sync_summary")[1:] == [["fortnox", "invoice", "1", "1", "0", "0", "0", "0"]]


def test_periods_are_swedish_days_iso_weeks_and_months() -> None:
    assert report_period("weekly", DAY) == Period("weekly", dt.date(2026, 3, 9), dt.date(2026, 3, 15))
    assert report_period("weekly", DAY).label == "2026-W11"
    assert report_period("monthly", "2024-02-10") == Period("monthly", dt.date(2024, 2, 1), dt.date(2024, 2, 29))
    assert report_period("daily", None, today=dt.date(2026, 3, 1)).label == "2026-02-28"
    assert report_period("weekly", None, today=dt.date(2026, 3, 16)).label == "2026-W11"
    assert report_period("monthly", None, today=dt.date(2026, 1, 5)).label == "2025-12"
    assert Period.containing("daily", dt.date(2026, 3, 29)).end == utc("2026-03-29T22:00:00")  # summer time begins


def test_the_date_parameter_is_a_date_the_ui_picks_and_validation_checks() -> None:
    """`--param date=not-a-date` is refused before the run starts, by the flow and by the deployment's schema."""
    from prefect.exceptions import ParameterTypeError
    from prefect.utilities.schema_tools import ValidationError, validate

    flow = reconciliation.prefect_flow  # what deployments and recorded runs use
    schema = flow.parameters.model_dump()
    [day] = [s for s in schema["properties"]["date"]["anyOf"] if s.get("type") == "string"]
    assert day["format"] == "date"  # the UI's date picker
    validate({"kind": "daily", "date": "2026-03-14"}, schema, raise_on_error=True)
    with pytest.raises(ValidationError, match="date"):  # what the server does for a deployment's run
        validate({"kind": "daily", "date": "not-a-date"}, schema, raise_on_error=True)
    assert flow.validate_parameters({"kind": "daily", "date": "2026-03-14"})["date"] == dt.date(2026, 3, 14)
    with pytest.raises(ParameterTypeError, match="date"):
        flow.validate_parameters({"kind": "daily", "date": "not-a-date"})
    assert report_period("weekly", dt.date(2026, 3, 14)) == report_period("weekly", DAY)


# --------------------------------------------------------------------------- monthly, store only
def test_the_monthly_audit_names_a_bulk_load_whose_rows_were_changed_in_the_database(store_env: str,
                                                                                    reports_dir: Path) -> None:
    from models.projects import TimeReport
    from models.upsert import upsert_in_chunks

    reports = [(f"1313/2026-03-0{1 + n}/Åsa Öberg/0", TimeReport(employee="Åsa Öberg", project="1313",
                date=dt.date(2026, 3, 1 + n), hours=Decimal("7.5"))) for n in range(5)]
    with open_store(store_env).begin() as c:
        upsert_in_chunks(c, ENTITIES["time_report"], "acme", "workcloud", spelled(reports), AuditRecorder("acme", "test"),
                         utc("2026-03-10T10:00:00"))
        seq = c.execute(sa.select(audit_events.c.seq)).scalar_one()
        time_reports = ENTITIES["time_report"].table
        c.execute(time_reports.update().where(time_reports.c.external_id == reports[2][0]).values(hours=Decimal("17")))

    [written] = reconciliation("monthly", tenant="acme", date="2026-03-15")

    [chain] = records(written, "audit_chain")
    assert (chain["chain"], chain["events_checked"], chain["bulk_loads_checked"], chain["bulk_loads_changed"]) == (
        "intact", "1", "1", "1")
    assert chain["reason"] == (f"time_report load at seq {seq}: the stored rows differ from those inserted "
                               "(their digest does not match)")
    assert {f.label: (f.value, f.tone) for f in written.figures}["Revisionskedja / Audit chain"] == (
        "Rader ändrade i 1 massladdningar / Rows changed in 1 bulk loads", "bad")


def test_the_monthly_audit_ages_the_backlogs_and_reports_a_broken_audit_chain(store_env: str,
                                                                               reports_dir: Path) -> None:
    # As of the end of March (2026-03-31T22:00Z): ages 0, 8, 31, 91 and 200 days.
    with open_store(store_env).begin() as c:
        for queued in ("2026-03-31T12:00:00", "2026-03-23T12:00:00", "2026-02-28T12:00:00", "2025-12-30T12:00:00"):
            letter(c, queued, "invoice", "server")
        letter(c, "2026-03-02T12:00:00", "invoice", "server", "resolved", resolved="2026-03-03T12:00:00")
        for created in ("2026-03-25T08:00:00", "2025-09-12T08:00:00"):
            held(c, created, "workcloud", "workcloud_projects", "VAL-REQUIRED")
        audit = AuditRecorder("acme", "test")
        for number in range(3):
            audit.record("create", "customer", str(uuid.uuid4()), occurred_at=utc("2026-03-10T10:00:00"),
                         new_state={"name": f"Kund {number}"})
        audit.flush(c)
        second = c.execute(sa.select(audit_events.c.seq).order_by(audit_events.c.seq).offset(1).limit(1)).scalar_one()
        # Someone with direct database access edits what the second event says happened, past the trigger.
        if is_postgres(c):
            c.exec_driver_sql("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only")
        else:
            c.exec_driver_sql("DROP TRIGGER audit_events_no_update")
        c.execute(audit_events.update().where(audit_events.c.seq == second).values(new_state={"name": "Annan Kund"}))
        if is_postgres(c):
            c.exec_driver_sql("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only")

    [written] = reconciliation("monthly", tenant="acme", date="2026-03-15")

    assert table(written, "backlog_ageing") == [
        ["queue", "system", "entity", "age_0_7", "age_8_30", "age_31_90", "age_over_90", "count"],
        ["dead_letter", "fortnox", "invoice", "1", "1", "1", "1", "4"],
        ["quarantine", "workcloud", "workcloud_projects", "1", "0", "0", "1", "2"],
    ]
    [header, chain] = table(written, "audit_chain")
    assert dict(zip(header, chain, strict=True)) == {
        "events_checked": "1", "chain": "broken", "break_seq": str(second), "break_id": chain[3],
        "bulk_loads_checked": "0", "bulk_loads_changed": "0",
        "reason": "content does not match its checksum (the row was altered)"}
    assert {f.label: (f.value, f.tone) for f in written.figures}["Revisionskedja / Audit chain"] == (
        f"Bruten vid nr / Broken at seq {second}", "bad")
    assert written.notices == ["Ingen ansluten Fortnox-integration: ingen jämförelse med Fortnox. / No connected "
                               "Fortnox integration: nothing compared with Fortnox."]
    assert list(written.csv) == [
        "audit_chain", "payment_matches", "unmatched_transactions", "open_invoices", "sync_summary", "problem_runs",
        "dead_letter_backlog", "quarantine_backlog", "backlog_ageing", "daily_volumes"]
    assert written.html.parent == reports_dir / "acme" / "monthly-2026-03"


# --------------------------------------------------------------------------- against the Fortnox sandbox
@pytest.fixture
def fortnox_acme(store_env: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[FortnoxSandbox]:
    """The tenant `acme` connected to a sandbox, 50 records a page, and everything imported once."""
    monkeypatch.setenv("LEDGERFLOW_ENCRYPTION_KEY", KEY)
    monkeypatch.setenv("LEDGERFLOW_HTTP_BACKOFF_SECONDS", "0.01")
    with FortnoxSandbox(seed=11, supplier_invoices=40, customers=20, suppliers=10, invoices=30, offers=0,
                        attendance_transactions=0, salary_transactions=0) as sandbox:
        sandbox.state.rate_limit = 250
        settings = Settings()
        connect_fortnox(settings, open_store(store_env), "acme", sandbox_code(sandbox.url, settings.fortnox_redirect_uri),
                        sandbox_endpoints(sandbox.url, requests_per_5s=250, page_size=50))
        import_sync(tenant="acme", datasets=["customers", "suppliers", "supplier_invoices", "invoices"])
        yield sandbox


def stored_ids(url: str, entity: str, **where: object) -> dict[str, str]:
    """Fortnox id -> local id of the stored records of an entity."""
    table = ENTITIES[entity].table
    with open_store(url).connect() as connection:
        query = sa.select(table.c.external_id, table.c.id).where(*(table.c[k] == v for k, v in where.items()))
        return dict(connection.execute(query).all())


def add_local_invoice(url: str, day: dt.date) -> str:
    """An invoice made here (the property system) and not exported yet; its local id."""
    invoice = Invoice(
        invoice_number="L-1", status="sent", customer_number="1", customer_name="Kund 1 AB", invoice_date=day,
        due_date=day + dt.timedelta(days=30), currency="SEK",
        lines=[{"line_number": 1, "description": "Takomläggning", "quantity": "2", "unit_price": "1500.00",
                "vat_rate": "25", "line_total": "3000.00", "vat_amount": "750.00"}],
        subtotal=Decimal("3000.00"), vat_amount=Decimal("750.00"), total=Decimal("3750.00"),
        amount_due=Decimal("3750.00"), paid_amount=Decimal("0.00"))
    with open_store(url).begin() as connection:
        audit = AuditRecorder("acme", "test")
        upsert(connection, ENTITIES["invoice"], "acme", "fastighetssystem", spelled([("L-1", invoice)]), audit)
        audit.flush(connection)
    return stored_ids(url, "invoice", source_system="fastighetssystem")["L-1"]


def test_the_weekly_reconciliation_names_exactly_what_differs_with_both_ids_and_values(
    fortnox_acme: FortnoxSandbox, store_env: str, reports_dir: Path
) -> None:
    settings = Settings()
    supplier_invoices = stored_ids(store_env, "supplier_invoice")
    customers = stored_ids(store_env, "customer")
    with fortnox_client(settings, open_store(store_env), "acme") as client:
        # An unbooked supplier invoice we hold: its total is changed in Fortnox.
        changed = next(i for i in client.list(fx.SUPPLIER_INVOICES, filter="unbooked")
                       if i.given_number in supplier_invoices)
        client.update(fx.SUPPLIER_INVOICES, changed.given_number, {"Total": str(changed.total + 100)})
        # A customer we hold is deleted in Fortnox.
        deleted = sorted(customers, key=int)[-1]
        client.delete(fx.CUSTOMERS, deleted)
    local_id = add_local_invoice(store_env, changed.invoice_date)
    week = Period.containing("weekly", changed.invoice_date)

    [written] = reconciliation("weekly", tenant="acme", date=changed.invoice_date.isoformat())

    with open_store(store_env).connect() as connection:
        name = connection.execute(sa.select(ENTITIES["customer"].table.c.name)
                                  .where(ENTITIES["customer"].table.c.external_id == deleted)).scalar_one()
    assert records(written, "discrepancies") == [
        {"entity": "invoice", "kind": "missing_remotely", "local_id": local_id, "remote_id": "", "number": "L-1",
         "field": "total", "local_value": "3750.00", "remote_value": "", "date": changed.invoice_date.isoformat(),
         "note": "Aldrig exporterad till Fortnox / Never exported to Fortnox"},
        {"entity": "supplier_invoice", "kind": "amount_differs", "local_id": supplier_invoices[changed.given_number],
         "remote_id": changed.given_number, "number": changed.given_number, "field": "total",
         "local_value": f"{changed.total:.2f}", "remote_value": f"{changed.total + 100:.2f}",
         "date": changed.invoice_date.isoformat(), "note": ""},
        {"entity": "customer", "kind": "missing_remotely", "local_id": customers[deleted], "remote_id": deleted,
         "number": deleted, "field": "name", "local_value": name, "remote_value": "", "date": "",
         "note": "Finns inte längre i Fortnox / No longer in Fortnox"},
    ]
    totals = {row["entity"]: row for row in records(written, "reconciliation_totals")}
    assert {entity: row["period"] for entity, row in totals.items()} == {
        "invoice": week.label, "supplier_invoice": week.label, "customer": "alla / all"}
    assert (totals["customer"]["local_count"], totals["customer"]["remote_count"]) == ("20", "19")
    assert (totals["invoice"]["count_difference"], totals["invoice"]["amount_difference"]) == ("1", "3750.00")
    assert {k: totals["supplier_invoice"][k] for k in ("count_difference", "amount_difference", "missing_locally",
                                                       "missing_remotely", "differs")} == {
        "count_difference": "0", "amount_difference": "-100.00", "missing_locally": "0", "missing_remotely": "0",
        "differs": "1"}
    assert {f.label: f.value for f in written.figures if "/ Discrepancies" in f.label} == {
        "Avvikelser / Discrepancies": "3"}
    assert list(written.csv)[:5] == [
        "reconciliation_totals", "discrepancies", "payment_matches", "unmatched_transactions", "open_invoices"]


def test_the_monthly_audit_detects_drift_in_fortnox_since_the_last_sync(fortnox_acme: FortnoxSandbox, store_env: str,
                                                                        reports_dir: Path) -> None:
    settings = Settings()
    customers = stored_ids(store_env, "customer")
    with fortnox_client(settings, open_store(store_env), "acme") as client:
        renamed = client.get(fx.CUSTOMERS, "2")
        client.update(fx.CUSTOMERS, "2", {"Name": "Nytt Namn AB"})
        created = client.create(fx.CUSTOMERS, {"Name": "Ny Kund AB"})

    [written] = reconciliation("monthly", tenant="acme")

    drift = records(written, "drift")
    assert [(r["entity"], r["kind"], r["local_id"], r["remote_id"], r["field"], r["local_value"], r["remote_value"])
            for r in drift] == [
        ("customer", "changed_remotely", customers["2"], "2", "name", renamed.name, "Nytt Namn AB"),
        ("customer", "created_remotely", "", created.customer_number, "name", "", "Ny Kund AB"),
    ]
    assert all(dt.datetime.fromisoformat(r["synced_until"]) < dt.datetime.now(dt.UTC) for r in drift)
    assert [(r["entity"], r["kind"], r["remote_id"], r["field"], r["local_value"], r["remote_value"])
            for r in records(written, "discrepancies")] == [
        ("customer", "missing_locally", created.customer_number, "name", "", "Ny Kund AB"),
        ("customer", "value_differs", "2", "name", renamed.name, "Nytt Namn AB"),
    ]
    [chain] = records(written, "audit_chain")
    assert chain["chain"] == "intact" and int(chain["events_checked"]) > 0
    # A sync afterwards brings both in: nothing drifts any more.
    import_sync(tenant="acme", datasets=["customers"])
    [again] = reconciliation("monthly", tenant="acme")
    assert records(again, "drift") == [] and records(again, "discrepancies") == []


def test_a_fortnox_record_skipped_in_quarantine_is_not_missing_but_one_marked_fixed_is(
    fortnox_acme: FortnoxSandbox, store_env: str, reports_dir: Path
) -> None:
    with fortnox_client(Settings(), open_store(store_env), "acme") as client:
        skipped = client.create(fx.CUSTOMERS, {"Name": "Hoppas Över AB"})
        fixed = client.create(fx.CUSTOMERS, {"Name": "Rättad AB"})
    with open_store(store_env).begin() as c:
        for customer, resolution in ((skipped, "skipped"), (fixed, "manual_fix")):
            c.execute(quarantine.insert().values(
                id=str(uuid.uuid4()), tenant_id="acme", system="fortnox", dataset="fortnox_customers",
                source_ref=f"fortnox:customers/{customer.customer_number}", record={}, record_hash=resolution,
                error_code="VAL-MODEL", field="Currency", description="okänd valuta", suggested_action="rätta",
                status="resolved", resolution=resolution, created_at=utc("2026-03-01T08:00:00"),
                resolved_at=utc("2026-03-02T08:00:00")))

    [written] = reconciliation("monthly", tenant="acme")

    assert [(r["kind"], r["remote_id"]) for r in records(written, "discrepancies")] == [
        ("missing_locally", fixed.customer_number)]


def test_a_report_whose_fortnox_is_down_is_written_with_a_notice_and_the_run_fails(
    fortnox_acme: FortnoxSandbox, store_env: str, reports_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEDGERFLOW_HTTP_ATTEMPTS", "1")
    httpx.post(f"{fortnox_acme.url}/_sandbox/faults", json={"rate_503": 1.0}, timeout=10).raise_for_status()

    result = CliRunner().invoke(report_app, ["weekly", "--tenant", "acme", "--date", DAY])

    assert result.exit_code == 1
    html = (reports_dir / "acme" / "weekly-2026-W11" / "report.html").read_text(encoding="utf-8")
    assert "Fortnox kunde inte jämföras / Fortnox could not be compared" in html


# --------------------------------------------------------------------------- the HTML in a browser
def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if in_ci():
            pytest.fail("CI is set and chromium is not installed (apt-get install chromium)")
        pytest.skip("chromium is not installed (apt-get install chromium); the rendered report is not checked")
    return found


def rendered_dom(written: WrittenReport) -> str:
    result = subprocess.run(
        [chromium(), "--headless", "--disable-gpu", "--no-sandbox", "--dump-dom", written.html.resolve().as_uri()],
        capture_output=True, text=True, timeout=120, check=True)
    return result.stdout


def test_the_report_renders_its_tables_and_chart_in_headless_chromium(store_env: str, reports_dir: Path) -> None:
    fill_day(store_env)
    [written] = reconciliation("daily", tenant="acme", date=DAY)

    dom = rendered_dom(written)

    assert dom.count("<table>") == 4
    assert 'Synkade poster<span class="en">Records synced</span></th>' in dom
    assert ('<td class="k-text">fortnox</td><td class="k-text">supplier_invoice</td><td class="k-count">1</td>'
            '<td class="k-count">0</td><td class="k-count">4</td>') in dom
    assert "Misslyckad / Failed</td>" in dom and "Ja, lyckades / Yes, succeeded</td>" in dom
    svg = dom[dom.index("<svg"):dom.index("</svg>")]
    assert svg.count('class="synced"') == 2 + 1  # two days with records synced, and the legend
    assert svg.count("<circle") == 4 + 1  # the error rate of the four days with records, and the legend
    assert "Felfrekvens / Error rate" in svg
    assert "2026-03-14: 28 synkade / synced, 6 överhoppade / skipped, 2 misslyckade / failed, 2 i karantän / " \
           "quarantined, felfrekvens / error rate 10.5 %" in svg
    assert "http://" not in dom.replace('xmlns="http://www.w3.org/2000/svg"', "")  # nothing fetched from anywhere

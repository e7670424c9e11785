"""Fortnox import and export end to end: our real client over real HTTP against the Fortnox sandbox.

The sandbox enforces Fortnox's own rules (paging, errors, token expiry, rate limit); most
tests raise its limit to 250 per 5 s so they run in seconds, and one drives the real
25 per 5 s from several threads.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from connectors import fortnox as fx
from connectors.http import AuthError, NotFoundError, PermanentError
from connectors.sandbox.fortnox import FortnoxSandbox
from flows.cli import app
from flows.connections import connect_fortnox, fortnox_client, sandbox_code, sandbox_endpoints
from flows.export import export
from flows.import_sync import import_sync
from flows.settings import Settings
from models.audit import AuditRecorder, verify_chain
from models.invoices import Invoice
from models.parties import Customer
from models.secrets import SecretCipher
from models.store import open_store
from models.tables import ENTITIES, dead_letters, integrations, sync_conflicts, sync_logs
from models.upsert import spelled, upsert

KEY = SecretCipher.new_key()
FAST = 250  # requests per 5 s the sandbox allows in most tests


@pytest.fixture
def sandbox() -> Iterator[FortnoxSandbox]:
    with FortnoxSandbox(seed=7, supplier_invoices=45, customers=25, suppliers=12, invoices=30) as running:
        running.state.rate_limit = FAST
        yield running


@pytest.fixture
def fortnox(store_env: str, sandbox: FortnoxSandbox, monkeypatch: pytest.MonkeyPatch) -> FortnoxSandbox:
    """The tenant `acme` connected to the sandbox, 20 records a page so lists span pages."""
    monkeypatch.setenv("LEDGERFLOW_ENCRYPTION_KEY", KEY)
    monkeypatch.setenv("LEDGERFLOW_HTTP_BACKOFF_SECONDS", "0.01")
    settings = Settings()
    code = sandbox_code(sandbox.url, settings.fortnox_redirect_uri)
    connect_fortnox(settings, open_store(store_env), "acme", code,
                    sandbox_endpoints(sandbox.url, requests_per_5s=FAST, page_size=20))
    return sandbox


def admin(sandbox: FortnoxSandbox, method: str, path: str, **kwargs) -> dict:  # type: ignore[no-untyped-def]
    response = httpx.request(method, f"{sandbox.url}/_sandbox/{path}", timeout=10, **kwargs)
    response.raise_for_status()
    return response.json()


def count(url: str, entity_type: str) -> int:
    with open_store(url).connect() as connection:
        return connection.execute(sa.select(sa.func.count()).select_from(ENTITIES[entity_type].table)).scalar_one()


def test_full_sync_pages_through_everything_then_an_incremental_run_asks_once_per_dataset(fortnox: FortnoxSandbox,
                                                                                          store_env: str) -> None:
    expected = admin(fortnox, "GET", "info")["counts"]

    first = {r.dataset: r for r in import_sync(tenant="acme")}
    stats = admin(fortnox, "GET", "stats")

    assert first["supplier_invoices"].listed == 45
    assert first["supplier_invoices"].inserted + first["supplier_invoices"].quarantined == 45
    assert stats["by_route"]["GET /3/supplierinvoices"] == 3  # 45 items, 20 a page
    assert stats["by_route"]["GET /3/supplierinvoices/{id}"] == 45
    assert count(store_env, "customer") == first["customers"].inserted == expected["customers"] == 25
    assert count(store_env, "supplier_invoice") == first["supplier_invoices"].inserted
    assert count(store_env, "project") == expected["projects"]

    admin(fortnox, "POST", "stats/reset")
    second = import_sync(tenant="acme")

    assert admin(fortnox, "GET", "stats")["requests"] == len(second) == 7
    assert all((r.listed, r.inserted, r.updated, r.status) == (0, 0, 0, "success") for r in second)
    with open_store(store_env).connect() as connection:
        assert verify_chain(connection, "acme").ok


def test_a_sync_under_20_percent_429_and_503_ends_with_every_record_exactly_once(fortnox: FortnoxSandbox,
                                                                                 store_env: str) -> None:
    admin(fortnox, "POST", "faults", json={"rate_429": 0.1, "rate_503": 0.1, "seed": 3})

    reports = {r.dataset: r for r in import_sync(tenant="acme")}

    stats = admin(fortnox, "GET", "stats")
    assert stats["injected_faults"] >= 10
    expected = admin(fortnox, "GET", "info")["counts"]
    assert count(store_env, "customer") == expected["customers"]
    assert count(store_env, "supplier") == expected["suppliers"]
    table = ENTITIES["supplier_invoice"].table
    with open_store(store_env).connect() as connection:
        numbers = connection.execute(sa.select(table.c.external_id)).scalars().all()
    assert len(numbers) == len(set(numbers)) == reports["supplier_invoices"].inserted
    assert reports["supplier_invoices"].inserted + reports["supplier_invoices"].quarantined == 45


def test_amounts_arrive_as_fortnox_has_them(fortnox: FortnoxSandbox, store_env: str) -> None:
    import_sync(tenant="acme", datasets=["supplier_invoices"])
    table = ENTITIES["supplier_invoice"].table
    with open_store(store_env).connect() as connection:
        row = connection.execute(sa.select(table).where(table.c.external_id == "1")).one()
    settings = Settings()
    with fortnox_client(settings, open_store(store_env), "acme") as client:
        remote = client.supplier_invoice("1")
    assert row.total == remote.total
    assert row.vat == remote.vat
    assert row.supplier_number == remote.supplier_number
    assert len(row.rows) == len(remote.supplier_invoice_rows)


def test_an_expired_token_is_renewed_and_tokens_are_only_stored_encrypted(fortnox: FortnoxSandbox,
                                                                          store_env: str) -> None:
    settings = Settings()
    engine = open_store(store_env)
    with engine.connect() as connection:
        before = connection.execute(sa.select(integrations)).one()
    first_access = settings.cipher().decrypt(before.access_token_encrypted, "acme/fortnox/access_token")

    admin(fortnox, "POST", "clock", json={"advance_seconds": 3700})  # past the 1-hour lifetime
    import_sync(tenant="acme", datasets=["projects"])

    with engine.connect() as connection:
        after = connection.execute(sa.select(integrations)).one()
    cipher = settings.cipher()
    access = cipher.decrypt(after.access_token_encrypted, "acme/fortnox/access_token")
    refresh = cipher.decrypt(after.refresh_token_encrypted, "acme/fortnox/refresh_token")
    assert access != first_access
    assert count(store_env, "project") > 0
    stored_text = " ".join(str(value) for value in after)
    for secret in (access, refresh, first_access, "sandbox-secret"):
        assert secret not in stored_text
    if store_env.startswith("sqlite"):
        raw = open(store_env.removeprefix("sqlite:///"), "rb").read()
        assert access.encode() not in raw and refresh.encode() not in raw


def _local_customers(url: str, n: int, names: dict[int, str] | None = None) -> list[str]:
    engine = open_store(url)
    records = [
        (f"K{i}", Customer(customer_number=f"K{i}", name=(names or {}).get(i, f"Kund {i} AB"), payment_terms_days=30,
                           currency="SEK", is_active=True))
        for i in range(1, n + 1)
    ]
    with engine.begin() as connection:
        audit = AuditRecorder("acme", "test")
        upsert(connection, ENTITIES["customer"], "acme", "fastighetssystem", spelled(records), audit)
        audit.flush(connection)
        table = ENTITIES["customer"].table
        return connection.execute(sa.select(table.c.id).order_by(table.c.external_id)).scalars().all()


def test_a_refused_record_goes_to_the_dead_letters_and_is_retried_after_the_fix(fortnox: FortnoxSandbox,
                                                                              store_env: str) -> None:
    _local_customers(store_env, 4, names={3: "Trasig Kund AB"})
    admin(fortnox, "POST", "rules", json={"method": "POST", "path": "/3/customers", "match": {"Name": "Trasig Kund AB"},
                                          "status": 422, "code": 2000999, "message": "Ogiltigt namn"})

    report = export(entities=["customer"], tenant="acme")[0]

    assert (report.due, report.created, report.dead_letters) == (4, 3, 1)
    with open_store(store_env).connect() as connection:
        letter = connection.execute(sa.select(dead_letters)).one()
    assert (letter.status, letter.error_code, letter.entity_type, letter.error_category) == (
        "pending", "2000999", "customer", "validation")
    assert letter.request["method"] == "POST"
    assert letter.request["body"]["Customer"]["Name"] == "Trasig Kund AB"
    assert letter.attempts[-1]["status_code"] == 422
    # Not due again until fixed: a second export does not pile up letters.
    assert export(entities=["customer"], tenant="acme")[0].due == 0

    _local_customers(store_env, 4, names={3: "Rättad Kund AB"})  # the data is fixed at the source
    result = CliRunner().invoke(app, ["dlq", "retry", letter.id[:8]])

    assert result.exit_code == 0, result.output
    with open_store(store_env).connect() as connection:
        assert connection.execute(sa.select(dead_letters.c.status, dead_letters.c.resolution)).one() == (
            "resolved", "retried")
    with fortnox_client(Settings(), open_store(store_env), "acme") as client:
        assert client.get(fx.CUSTOMERS, "K3").name == "Rättad Kund AB"


def test_an_export_interrupted_half_way_creates_each_record_once_when_run_again(fortnox: FortnoxSandbox,
                                                                                store_env: str,
                                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    ids = _local_customers(store_env, 8)
    invoice = Invoice(
        invoice_number="L-1", status="sent", customer_number="K1", customer_name="Kund 1 AB",
        invoice_date=dt.date(2026, 11, 2), due_date=dt.date(2026, 12, 2), currency="SEK",
        lines=[{"line_number": 1, "description": "Takomläggning", "quantity": "2", "unit_price": "1500.00",
                "vat_rate": "25", "line_total": "3000.00", "vat_amount": "750.00"}],
        subtotal=Decimal("3000.00"), vat_amount=Decimal("750.00"), total=Decimal("3750.00"),
        amount_due=Decimal("3750.00"), paid_amount=Decimal("0.00"),
    )
    with open_store(store_env).begin() as connection:
        audit = AuditRecorder("acme", "test")
        upsert(connection, ENTITIES["invoice"], "acme", "fastighetssystem", spelled([("L-1", invoice)]), audit)
        audit.flush(connection)
        invoice_id = connection.execute(sa.select(ENTITIES["invoice"].table.c.id)).scalar_one()
    # The first run dies after creating half the customers and the invoice in Fortnox, before it
    # could note their ids: create them the way it would have.
    settings = Settings()
    with fortnox_client(settings, open_store(store_env), "acme") as client:
        for number in range(1, 5):
            client.create(fx.CUSTOMERS, {"CustomerNumber": f"K{number}", "Name": f"Kund {number} AB"})
        client.create(fx.INVOICES, {"CustomerNumber": "K1", "ExternalInvoiceReference1": invoice_id,
                                    "InvoiceRows": [{"Description": "Takomläggning", "DeliveredQuantity": "2",
                                                     "Price": 1500, "VAT": 25}]})
    # ...and a second run is cut off by the network after two more.
    monkeypatch.setenv("LEDGERFLOW_HTTP_ATTEMPTS", "1")
    admin(fortnox, "POST", "rules", json={"method": "POST", "path": "/3/customers", "match": {"Name": "Kund 7 AB"},
                                          "status": 503, "code": 1000003, "message": "Tillfälligt fel"})
    with pytest.raises(Exception, match="503"):
        export(entities=["customer"], tenant="acme")
    admin(fortnox, "DELETE", "rules")
    monkeypatch.delenv("LEDGERFLOW_HTTP_ATTEMPTS")

    reports = {r.entity: r for r in export(tenant="acme")}

    assert (reports["customer"].created, reports["customer"].found_existing) == (2, 0)
    assert (reports["invoice"].created, reports["invoice"].found_existing) == (0, 1)
    with fortnox_client(settings, open_store(store_env), "acme") as client:
        remote = [c.customer_number for c in client.list(fx.CUSTOMERS) if c.customer_number.startswith("K")]
        invoices = list(client.list(fx.INVOICES, externalinvoicereference1=invoice_id))
    assert sorted(remote) == [f"K{n}" for n in range(1, 9)]
    assert len(invoices) == 1
    assert len(ids) == 8
    assert export(tenant="acme")[0].due == 0  # nothing left to send


def test_threads_sharing_a_token_never_exceed_25_requests_in_5_seconds(sandbox: FortnoxSandbox, database_url: str,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    sandbox.state.rate_limit = 25  # Fortnox's real limit
    monkeypatch.setenv("LEDGERFLOW_ENCRYPTION_KEY", KEY)
    settings = Settings()
    engine = open_store(database_url)
    connect_fortnox(settings, engine, "acme", sandbox_code(sandbox.url, settings.fortnox_redirect_uri),
                    sandbox_endpoints(sandbox.url))
    errors: list[Exception] = []

    def worker() -> None:
        try:
            with fortnox_client(settings, engine, "acme") as client:
                next(iter(client.list(fx.PROJECTS)))  # one list request
                for number in range(1, 16):
                    client.supplier_invoice(str(number))
        except Exception as error:  # noqa: BLE001 - collected for the assertion below
            errors.append(error)

    admin(sandbox, "POST", "stats/reset")
    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    stats = admin(sandbox, "GET", "stats")
    assert errors == []
    assert stats["requests"] == 4 * 16, stats
    assert stats["rate_limit_violations"] == 0
    assert stats["max_requests_in_5s_window"] <= 25


def test_the_client_reads_pdfs_writes_the_project_and_names_fortnox_errors(fortnox: FortnoxSandbox, store_env: str,
                                                                           caplog: pytest.LogCaptureFixture) -> None:
    settings = Settings()
    caplog.set_level("INFO", logger="ledgerflow.http")
    with fortnox_client(settings, open_store(store_env), "acme") as client:
        invoice = next(i for i in client.supplier_invoices(filter="unbooked") if client.file_connections(i.given_number))
        connection = client.file_connections(invoice.given_number)[0]
        pdf = client.archive_file(connection.file_id)
        project = next(iter(client.list(fx.PROJECTS)))
        comment = f"AI-validerad: 97 % konfidens, Projekt: {project.project_number} {project.description}"
        updated = client.set_supplier_invoice_project(invoice.given_number, project.project_number, comment)
        with pytest.raises(NotFoundError) as missing:
            client.get(fx.CUSTOMERS, "finns-inte")
        with pytest.raises(PermanentError) as bad_filter:
            next(iter(client.list(fx.INVOICES, filter="doesntexist")))
    assert pdf.startswith(b"%PDF")
    assert (updated.project, updated.comments) == (project.project_number, comment)
    assert (missing.value.status, missing.value.code) == (404, "2000433")
    assert (bad_filter.value.status, bad_filter.value.code) == (400, "2000587")
    lines = [r for r in caplog.records if r.name == "ledgerflow.http"]
    assert any(r.path == f"supplierinvoices/{invoice.given_number}" and r.method == "PUT" and r.status == 200
               for r in lines)
    with open_store(store_env).connect() as db:
        stored = db.execute(sa.select(integrations.c.access_token_encrypted)).scalar_one()
    access = settings.cipher().decrypt(stored, "acme/fortnox/access_token")
    assert all(access not in r.getMessage() for r in caplog.records)  # no token in any log line


def test_a_token_the_server_refuses_twice_is_an_auth_error(fortnox: FortnoxSandbox, store_env: str) -> None:
    class Stale:
        """A token source whose renewal hands out a token the server does not know either."""

        def token(self) -> str:
            return "stale"

        def renew(self, rejected: str) -> str:
            return "still-stale"

    client = fx.FortnoxClient.for_tenant("acme", Stale(), f"{fortnox.url}/3/", limits=fx.limits(FAST))
    with pytest.raises(AuthError) as error:
        client.get(fx.PROJECTS, "1313")
    assert error.value.status == 401
    assert [a.status_code for a in error.value.attempts] == [401, 401]


def test_a_record_changed_on_both_sides_takes_the_fortnox_version_and_keeps_ours_as_a_conflict(
    fortnox: FortnoxSandbox, store_env: str
) -> None:
    import_sync(tenant="acme", datasets=["customers"])
    table = ENTITIES["customer"].table
    engine = open_store(store_env)
    with engine.begin() as connection:  # edited here after the sync (e.g. by a person in another flow)
        connection.execute(table.update().where(table.c.external_id == "3")
                           .values(name="Lokalt Namn AB", updated_at=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)))
    with fortnox_client(Settings(), engine, "acme") as client:  # ...and in Fortnox
        client.update(fx.CUSTOMERS, "3", {"Name": "Fortnox Namn AB"})

    report = import_sync(tenant="acme", datasets=["customers"])[0]

    assert (report.listed, report.updated, report.conflicts) == (1, 1, 1)
    with engine.connect() as connection:
        name = connection.execute(sa.select(table.c.name).where(table.c.external_id == "3")).scalar_one()
        conflict = connection.execute(sa.select(sync_conflicts)).one()
    assert name == "Fortnox Namn AB"
    assert (conflict.external_id, conflict.resolution) == ("3", "remote_wins")
    assert conflict.local_state["name"] == "Lokalt Namn AB"
    assert conflict.remote_state["name"] == "Fortnox Namn AB"


def test_sandbox_token_prints_a_token_that_opens_the_api(sandbox: FortnoxSandbox) -> None:
    result = CliRunner().invoke(app, ["sandbox", "token", "--url", sandbox.url])
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    response = httpx.get(f"{sandbox.api_url}/projects", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert response.status_code == 200
    assert response.json()["MetaInformation"]["@TotalResources"] == admin(sandbox, "GET", "info")["counts"]["projects"]


def test_the_export_only_types_can_be_written(fortnox: FortnoxSandbox, store_env: str) -> None:
    with fortnox_client(Settings(), open_store(store_env), "acme") as client:
        employee = next(iter(client.list(fx.EMPLOYEES)))
        project = next(iter(client.list(fx.PROJECTS)))
        offer = client.create(fx.OFFERS, {"CustomerNumber": "1", "OfferDate": "2026-11-20", "Project":
                                          project.project_number, "OfferRows": [
                                              {"Description": "Takomläggning", "Quantity": "1",
                                               "Price": 120000, "VAT": 25}]})
        attendance = client.create(fx.ATTENDANCE, {"EmployeeId": employee.employee_id, "CauseCode": "TID",
                                                   "Date": "2026-11-20", "Hours": 7.5,
                                                   "Project": project.project_number})
        salary = client.create(fx.SALARY, {"EmployeeId": employee.employee_id, "SalaryCode": "11",
                                           "Date": "2026-11-20", "Number": 7.5, "Amount": 450,
                                           "Project": project.project_number})
    assert (offer.customer_number, offer.project, offer.total) == ("1", project.project_number, Decimal("150000"))
    assert (attendance.employee_id, attendance.hours, attendance.date) == (
        employee.employee_id, Decimal("7.5"), dt.date(2026, 11, 20))
    assert (salary.employee_id, salary.amount, salary.project) == (employee.employee_id, Decimal("450"),
                                                                   project.project_number)


def test_a_held_back_record_that_loads_later_leaves_the_quarantine(fortnox: FortnoxSandbox, store_env: str) -> None:
    wrong, skipped = "3", "4"
    for number in (wrong, skipped):
        fortnox.state.store("supplierinvoices", number,
                            {**fortnox.state.get("supplierinvoices", number), "Currency": "KRONOR"})
    runner = CliRunner()

    def held(*options: str) -> list[dict]:
        listed = runner.invoke(app, ["quarantine", "list", "--tenant", "acme", "--json", *options])
        assert listed.exit_code == 0, listed.output
        return json.loads(listed.output)

    first = import_sync(tenant="acme", datasets=["supplier_invoices"])[0]
    assert (first.quarantined, first.inserted) == (2, 43)
    assert [(item["source_ref"], item["field"], item["status"]) for item in held()] == [
        ("fortnox:supplierinvoices/3", "Currency", "open"), ("fortnox:supplierinvoices/4", "Currency", "open")]

    fortnox.state.store("supplierinvoices", wrong, {**fortnox.state.get("supplierinvoices", wrong), "Currency": "SEK"})
    second = import_sync(tenant="acme", datasets=["supplier_invoices"])[0]
    assert (second.inserted, second.quarantined) == (1, 1)  # 4 is listed again: the cursor overlaps a minute
    assert [item["source_ref"] for item in held()] == ["fortnox:supplierinvoices/4"]
    released = held("--status", "resolved")
    assert [(item["source_ref"], item["resolution"]) for item in released] == [("fortnox:supplierinvoices/3", "reloaded")]
    assert released[0]["resolved_by"].startswith("import_sync")
    assert held()[0]["record"]["Currency"] == "KRONOR"  # as Fortnox sent it, whole
    assert held()[0]["record"]["Total"] == fortnox.state.get("supplierinvoices", skipped)["Total"]
    assert len(held()[0]["record"]["SupplierInvoiceRows"]) > 0
    with open_store(store_env).connect() as connection:
        logged = connection.execute(sa.select(sync_logs.c.details).where(sync_logs.c.data_type == "supplier_invoice")
                                    .order_by(sync_logs.c.created_at)).scalars().all()
    assert [d["released_from_quarantine"] for d in logged] == [0, 1]

    resolved = runner.invoke(app, ["quarantine", "resolve", held()[0]["id"][:8], "--resolution", "skipped",
                                   "--by", "matilda", "--tenant", "acme"])
    assert resolved.exit_code == 0, resolved.output
    assert "1 quarantined record resolved: skipped" in resolved.output
    assert held() == []
    assert {(item["source_ref"], item["resolution"], item["resolved_by"]) for item in held("--status", "all")} == {
        ("fortnox:supplierinvoices/3", "reloaded", released[0]["resolved_by"]),
        ("fortnox:supplierinvoices/4", "skipped", "matilda")}

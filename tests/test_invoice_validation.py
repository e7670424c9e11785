"""The 5-minute supplier-invoice validation end to end, against the Fortnox and Graph sandboxes over
real HTTP: auto-approvals land in Fortnox with the right project, nothing is decided twice, the
reviewer's actions (CLI and API) update Fortnox and send the complaint, escalations go out once.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from connectors.sandbox.fortnox import FortnoxSandbox
from connectors.sandbox.fortnox.state import Rule
from connectors.sandbox.graph import GraphSandbox
from connectors.sandbox.workcloud import write_exports
from flows.cli import app
from flows.connections import connect_fortnox, sandbox_code, sandbox_endpoints
from flows.demo import sandbox_company_env
from flows.invoice_validation import supplier_invoice_validation
from flows.review_api import create_app
from flows.settings import Settings
from flows.workcloud_ingest import workcloud_ingest
from models.audit import AuditRecorder, verify_chain
from models.reviews import Review, decide, find, reject_once
from models.secrets import SecretCipher
from models.store import open_store
from models.tables import audit_events, invoice_reviews, sync_logs

KEY = SecretCipher.new_key()
TOKEN = "review-token-for-tests"


@pytest.fixture
def sandboxes(store_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[FortnoxSandbox, GraphSandbox]]:
    """Tenant `acme`: the WorkCloud registry ingested, Fortnox connected, Graph configured."""
    monkeypatch.setenv("LEDGERFLOW_ENCRYPTION_KEY", KEY)
    monkeypatch.setenv("LEDGERFLOW_HTTP_BACKOFF_SECONDS", "0.01")
    monkeypatch.setenv("LEDGERFLOW_REVIEW_API_TOKEN", TOKEN)
    write_exports(tmp_path / "workcloud", reports=10)
    workcloud_ingest(directory=str(tmp_path / "workcloud"), tenant="acme")
    with FortnoxSandbox(seed=7, supplier_invoices=40, customers=5, suppliers=8, invoices=5) as fortnox, \
            GraphSandbox() as graph:
        fortnox.state.rate_limit = 250
        for name, value in sandbox_company_env(graph).items():
            monkeypatch.setenv(name, value)
        settings = Settings()
        code = sandbox_code(fortnox.url, settings.fortnox_redirect_uri)
        connect_fortnox(settings, open_store(store_env), "acme", code,
                        sandbox_endpoints(fortnox.url, requests_per_5s=250, page_size=20))
        yield fortnox, graph


def truth(fortnox: FortnoxSandbox, given_number: str) -> str | None:
    """The project the sandbox's PDF of this invoice really belongs to (None: no PDF, or no project on it)."""
    connection = next((c for c, _ in fortnox.state.snapshot("supplierinvoicefileconnections")
                       if c["SupplierInvoiceNumber"] == given_number), None)
    return fortnox.state.archive[connection["FileId"]].source.project_number if connection else None


def with_project(fortnox: FortnoxSandbox, listed: list[dict]) -> list[dict]:
    """Flagged invoices whose PDF belongs to a known project: the ones a reviewer can approve."""
    return [item for item in listed if truth(fortnox, item["givenNumber"])]


def remote(fortnox: FortnoxSandbox, given_number: str) -> dict:
    record = fortnox.state.get("supplierinvoices", given_number)
    assert record is not None
    return record


def reviews_by_status(url: str) -> dict[str, int]:
    with open_store(url).connect() as connection:
        rows = connection.execute(sa.select(invoice_reviews.c.status, sa.func.count())
                                  .group_by(invoice_reviews.c.status)).all()
    return dict(rows)


def test_a_cycle_approves_in_fortnox_flags_the_rest_and_decides_nothing_twice(sandboxes, store_env: str) -> None:
    fortnox, _ = sandboxes
    candidates = [inv["GivenNumber"] for inv, _ in fortnox.state.snapshot("supplierinvoices")
                  if not inv.get("Cancelled") and not inv.get("Project") and not inv.get("Booked")]

    first = supplier_invoice_validation(tenant="acme")

    assert first.processed == len(candidates)
    assert first.auto_approved > 0
    assert (first.auto_approved + first.suggestion + first.alternatives + first.manual) == first.processed
    approved = [d for d in first.decisions if d["status"] == "auto_approved"]
    for decision in approved:  # never a wrong project written to Fortnox
        invoice = remote(fortnox, decision["given_number"])
        assert invoice["Project"] == truth(fortnox, decision["given_number"])
        assert invoice["Comments"].startswith(f"AI-validerad: {decision['confidence']} % konfidens, Projekt: ")
    assert reviews_by_status(store_env)["auto_approved"] == first.auto_approved

    with open_store(store_env).connect() as connection:
        logged = connection.execute(sa.select(sync_logs.c.record_count, sync_logs.c.status, sync_logs.c.details)
                                    .where(sync_logs.c.data_type == "supplier_invoice_review")).one()
    assert (logged.record_count, logged.status) == (first.processed, "success")
    assert logged.details["auto_approved"] == first.auto_approved
    requests = logged.details["api"]["fortnox"]["requests"]  # per HTTP status
    assert requests["200"] >= first.processed + first.auto_approved  # PDFs fetched, projects written

    again = supplier_invoice_validation(tenant="acme")
    assert (again.processed, again.auto_approved) == (0, 0)

    with open_store(store_env).connect() as connection:
        assert verify_chain(connection, "acme").ok


def test_a_changed_invoice_is_decided_again(sandboxes, store_env: str) -> None:
    fortnox, _ = sandboxes
    supplier_invoice_validation(tenant="acme")
    flagged = json.loads(CliRunner().invoke(app, ["invoices", "flagged", "--json"]).output)
    changed = flagged[0]["givenNumber"]
    fortnox.state.store("supplierinvoices", changed, {**remote(fortnox, changed), "Total": "999.00"})  # modified now

    rerun = supplier_invoice_validation(tenant="acme")

    assert [d["given_number"] for d in rerun.decisions] == [changed]


def test_the_reviewer_approves_rejects_and_parks_from_the_command_line(sandboxes, store_env: str) -> None:
    fortnox, graph = sandboxes
    supplier_invoice_validation(tenant="acme")
    runner = CliRunner()
    listed = json.loads(runner.invoke(app, ["invoices", "flagged", "--json"]).output)
    assert listed, "the sandbox always leaves some invoices for a person"
    due = [(item["dueDate"], item["confidence"]) for item in listed]
    assert due == sorted(due)  # most urgent first, then the least sure

    first = with_project(fortnox, listed)[0]["givenNumber"]
    second, third = [item["givenNumber"] for item in listed if item["givenNumber"] != first][:2]
    project = truth(fortnox, first)
    approved = runner.invoke(app, ["invoices", "approve", first, "--project", project, "--by", "matilda"])
    assert approved.exit_code == 0, approved.output
    assert remote(fortnox, first)["Project"] == project
    assert remote(fortnox, first)["Comments"].startswith(f"Godkänd av matilda, Projekt: {project} ")

    rejected = runner.invoke(app, ["invoices", "reject", second, "--reason", "Saknar projektnummer", "--by", "matilda"])
    assert rejected.exit_code == 0, rejected.output
    mail = graph.state.messages[-1]
    invoice = remote(fortnox, second)
    supplier = fortnox.state.get("suppliers", invoice["SupplierNumber"])
    assert mail["subject"] == f"Reklamation faktura {invoice['InvoiceNumber']}"
    assert mail["to"] == [supplier["Email"]]
    assert [a["name"] for a in mail["attachments"]] == ["Faktureringsriktlinjer.pdf"]
    assert invoice["Comments"].startswith("Reklamerad ")

    parked = runner.invoke(app, ["invoices", "wait", third, "--comment", "Frågar projektledaren"])
    assert parked.exit_code == 0
    again = runner.invoke(app, ["invoices", "approve", second])
    assert again.exit_code == 1 and "already_decided" in again.output
    statuses = reviews_by_status(store_env)
    assert (statuses["approved"], statuses["rejected"], statuses["waiting"]) == (1, 1, 1)


def test_a_reviewer_s_complaint_stands_when_fortnox_refuses_the_comment(sandboxes, store_env: str) -> None:
    fortnox, graph = sandboxes
    supplier_invoice_validation(tenant="acme")
    runner = CliRunner()
    listed = json.loads(runner.invoke(app, ["invoices", "flagged", "--json"]).output)
    given = next(item["givenNumber"] for item in listed
                 if fortnox.state.get("suppliers", remote(fortnox, item["givenNumber"])["SupplierNumber"])["Email"])
    fortnox.state.add_rule(Rule("PUT", f"/3/supplierinvoices/{given}", {}, 400, 2000588, "Fakturan är låst."))
    mails = len(graph.state.messages)

    rejected = runner.invoke(app, ["invoices", "reject", given, "--reason", "Saknar projektnummer"],
                             env={"COLUMNS": "400"})

    assert rejected.exit_code == 0, rejected.output
    assert rejected.output.startswith(f"Faktura {given}: rejected") and "— Saknar projektnummer" in rejected.output
    assert "The complaint was e-mailed, but Fortnox refused the comment: " in rejected.output
    assert len(graph.state.messages) == mails + 1
    assert not remote(fortnox, given)["Comments"].startswith("Reklamerad")
    again = runner.invoke(app, ["invoices", "reject", given, "--reason", "Saknar projektnummer"])
    assert again.exit_code == 1 and "already_decided" in again.output
    assert len(graph.state.messages) == mails + 1


def test_the_review_api_needs_its_token_and_acts_like_the_command_line(sandboxes, store_env: str) -> None:
    fortnox, graph = sandboxes
    supplier_invoice_validation(tenant="acme")
    client = TestClient(create_app(Settings(), "acme"))
    assert client.get("/api/invoices/flagged").status_code == 401
    assert client.get("/api/invoices/flagged", headers={"Authorization": "Bearer wrong"}).status_code == 401
    auth = {"Authorization": f"Bearer {TOKEN}"}

    listed = client.get("/api/invoices/flagged", headers=auth).json()
    manual = client.get("/api/invoices/flagged", params={"confidence": "<60"}, headers=auth).json()
    assert {item["band"] for item in manual} <= {"manual"}
    assert set(listed[0]) >= {"id", "invoiceNumber", "supplier", "total", "dueDate", "confidence", "aiSuggestion",
                              "alternatives", "pdfUrl"}
    pdf = client.get(with_project(fortnox, listed)[0]["pdfUrl"], headers=auth)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")

    target, other = with_project(fortnox, listed)[:2]
    project = truth(fortnox, target["givenNumber"])
    approved = client.post(f"/api/invoices/{target['id']}/approve", headers=auth,
                           json={"projectNumber": project, "comment": "Verifierad av Matilda", "reviewer": "matilda"})
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    assert remote(fortnox, target["givenNumber"])["Project"] == project
    twice = client.post(f"/api/invoices/{target['id']}/approve", headers=auth, json={})
    assert (twice.status_code, twice.json()["code"]) == (409, "already_decided")
    unknown = client.post(f"/api/invoices/{other['id']}/approve", headers=auth, json={"projectNumber": "0000"})
    assert (unknown.status_code, unknown.json()["code"]) == (400, "unknown_project")
    rejected = client.post(f"/api/invoices/{other['id']}/reject", headers=auth,
                           json={"reason": "Fel fakturaadress", "correctProject": truth(fortnox, other["givenNumber"])})
    assert rejected.status_code == 200 and rejected.json()["complaint"]["subject"].startswith("Reklamation faktura ")
    assert [m["subject"] for m in graph.state.messages if m["subject"].startswith("Reklamation")] == [
        rejected.json()["complaint"]["subject"]]
    assert client.get("/api/invoices/flagged", params={"status": "approved"}, headers=auth).json()[0]["status"] in (
        "approved", "auto_approved")


def test_flagged_invoices_due_soon_are_escalated_once(sandboxes, store_env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _, graph = sandboxes
    monkeypatch.setenv("LEDGERFLOW_INVOICE_ESCALATION_DAYS", "10000")  # every flagged invoice is "due soon"
    first = supplier_invoice_validation(tenant="acme")
    flagged = first.suggestion + first.alternatives + first.manual
    assert first.escalated == flagged
    notices = [m for m in graph.state.messages if "förfaller inom 10000 dagar" in m["subject"]]
    assert len(notices) == 1 and notices[0]["subject"].startswith(f"{flagged} flaggade fakturor")
    assert supplier_invoice_validation(tenant="acme").escalated == 0  # once, not every 5 minutes


def test_a_backlog_lists_all_file_connections_at_once(sandboxes, store_env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Under 25 requests per 5 s a backlog costs one request a page of connections, not one an invoice."""
    from tasks.invoice_analysis import inbox

    fortnox, _ = sandboxes
    monkeypatch.setattr(inbox, "BULK_FROM", 0)
    with_pdf = {c["SupplierInvoiceNumber"] for c, _ in fortnox.state.snapshot("supplierinvoicefileconnections")}
    candidates = {inv["GivenNumber"] for inv, _ in fortnox.state.snapshot("supplierinvoices")
                  if not inv.get("Cancelled") and not inv.get("Project") and not inv.get("Booked")}
    httpx.post(f"{fortnox.url}/_sandbox/stats/reset", timeout=10)

    summary = supplier_invoice_validation(tenant="acme")

    routes = httpx.get(f"{fortnox.url}/_sandbox/stats", timeout=10).json()["by_route"]
    assert routes["GET /3/supplierinvoicefileconnections"] == 2  # 20 a page in these tests
    assert routes["GET /3/archive/{id}"] == len(candidates & with_pdf)
    assert summary.no_document == len(candidates - with_pdf)


def test_invoice_analyze_reads_local_pdfs_against_the_registry_and_flags_bad_ones(
    store_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from connectors.sandbox import invoice_corpus as corpus

    write_exports(tmp_path / "workcloud", reports=10)
    workcloud_ingest(directory=str(tmp_path / "workcloud"), tenant="acme")
    for name, value in sandbox_company_env(GraphSandbox()).items():
        monkeypatch.setenv(name, value)
    good = corpus.make_invoice("project_number_and_name", seed=3)
    files = {"faktura.pdf": good.pdf}
    files |= {f"{problem}.pdf": corpus.bad_document(problem) for problem in corpus.BAD_DOCUMENTS}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)

    result = CliRunner().invoke(app, ["invoice", "analyze", "--json", *(str(tmp_path / n) for n in files)])

    assert result.exit_code == 0, result.output
    found = {Path(r["file"]).name: r for r in map(json.loads, result.output.strip().splitlines())}
    assert set(found) == set(files)
    first = found["faktura.pdf"]
    assert set(first) >= {"file", "fields", "project", "alternatives", "confidence", "band", "checks"}
    truth = good.truth.fields
    assert {k: first["fields"][k] for k in ("invoice_number", "invoice_date", "due_date", "total", "vat_amount",
                                             "currency", "ocr", "bankgiro", "supplier_org_nr", "reference")} == {
        "invoice_number": truth.invoice_number, "invoice_date": truth.invoice_date.isoformat(),
        "due_date": truth.due_date.isoformat(), "total": str(truth.total), "vat_amount": str(truth.vat_amount),
        "currency": truth.currency, "ocr": truth.ocr, "bankgiro": truth.bankgiro,
        "supplier_org_nr": truth.supplier_org_nr, "reference": truth.reference}
    assert (first["project"], first["band"]) == (good.truth.project_number, "auto_approve")
    assert first["confidence"] >= 95
    for problem in corpus.BAD_DOCUMENTS:
        bad = found[f"{problem}.pdf"]
        assert problem in [p["code"] for p in bad["problems"]]
        if problem == "too_many_pages":  # its first 50 pages are read: a person looks, nothing is approved by itself
            assert bad["band"] != "auto_approve" and bad["confidence"] <= 94
        else:
            assert (bad["band"], bad["confidence"]) == ("manual", 0), problem


def test_auto_reject_below_60_sends_the_complaint_by_itself(sandboxes, store_env: str,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    fortnox, graph = sandboxes
    monkeypatch.setenv("LEDGERFLOW_INVOICE_AUTO_REJECT", "true")
    monkeypatch.setenv("LEDGERFLOW_INVOICE_ESCALATION_DAYS", "0")

    summary = supplier_invoice_validation(tenant="acme")

    rejected = [d["given_number"] for d in summary.decisions if d["band"] == "manual"]
    complaints = [m for m in graph.state.messages if m["subject"].startswith("Reklamation")]
    with_email = [g for g in rejected if fortnox.state.get("suppliers", remote(fortnox, g)["SupplierNumber"])["Email"]]
    assert summary.complaints_sent == len(complaints) == len(with_email) > 0
    for given_number in with_email:
        assert remote(fortnox, given_number)["Comments"].startswith("Reklamerad ")
    assert reviews_by_status(store_env).get("rejected", 0) == len(with_email)


def test_each_decision_is_committed_before_the_next_call_and_a_sent_complaint_stands(
        sandboxes, store_env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Fortnox refuses every change to supplier invoices: no approval lands, and the complaints,
    once e-mailed, stay decided although Fortnox refused their "Reklamerad" comment."""
    fortnox, graph = sandboxes
    monkeypatch.setenv("LEDGERFLOW_INVOICE_AUTO_REJECT", "true")
    monkeypatch.setenv("LEDGERFLOW_INVOICE_ESCALATION_DAYS", "0")
    fortnox.state.add_rule(Rule("PUT", "/3/supplierinvoices/{id}", {}, 400, 2000588, "Fakturan är låst."))
    committed_at_each_mail: list[int] = []
    record = graph.state.record

    def record_after_looking(message: dict) -> None:  # what another connection sees when a complaint arrives
        if message["subject"].startswith("Reklamation"):
            with open_store(store_env).connect() as connection:
                committed_at_each_mail.append(connection.execute(
                    sa.select(sa.func.count()).select_from(invoice_reviews)).scalar_one())
                mailed = connection.execute(sa.select(invoice_reviews.c.status, invoice_reviews.c.complaint).where(
                    invoice_reviews.c.invoice_number == message["subject"].removeprefix("Reklamation faktura "))).one()
            # The invoice is already rejected, marked as being complained about: nobody else can act on it.
            assert mailed.status == "rejected" and set(mailed.complaint) == {"sending_at"}
        record(message)

    monkeypatch.setattr(graph.state, "record", record_after_looking)

    summary = supplier_invoice_validation(tenant="acme")

    complaints = [m for m in graph.state.messages if m["subject"].startswith("Reklamation")]
    assert summary.auto_approved == 0 and summary.failed_writes > 0  # the approvals Fortnox refused
    assert summary.complaints_sent == len(complaints) == len(committed_at_each_mail) > 1
    # Each invoice's decision was committed before its complaint went out, and no later.
    assert committed_at_each_mail[0] >= 1
    assert committed_at_each_mail == sorted(set(committed_at_each_mail))
    with open_store(store_env).connect() as connection:
        rejected = connection.execute(sa.select(invoice_reviews.c.given_number, invoice_reviews.c.complaint)
                                      .where(invoice_reviews.c.status == "rejected")).all()
    assert len(rejected) == len(complaints)
    for row in rejected:
        assert row.complaint["fortnox_comment_error"].endswith(
            f"/3/supplierinvoices/{row.given_number} -> 400 (code 2000588): Fakturan är låst.")
    assert all(not remote(fortnox, row.given_number)["Comments"].startswith("Reklamerad") for row in rejected)

    again = CliRunner().invoke(app, ["invoices", "reject", rejected[0].given_number, "--reason", "Fel belopp",
                                     "--tenant", "acme"])
    assert again.exit_code == 1 and "already_decided" in again.output
    assert len([m for m in graph.state.messages if m["subject"].startswith("Reklamation")]) == len(complaints)
    with open_store(store_env).connect() as connection:
        assert verify_chain(connection, "acme").ok


def test_a_complaint_is_claimed_before_it_is_sent_released_if_it_cannot_go_and_never_sent_twice(
        sandboxes, store_env: str) -> None:
    supplier_invoice_validation(tenant="acme")
    engine = open_store(store_env)
    given = json.loads(CliRunner().invoke(app, ["invoices", "flagged", "--json"]).output)[0]["givenNumber"]
    with engine.connect() as connection:
        review = find(connection, "acme", given)
    assert review is not None and review.status == "pending"
    audit = AuditRecorder("acme", "review/eva")
    now = dt.datetime(2026, 12, 4, 9, 30, tzinfo=dt.UTC)
    during: list[Review | None] = []

    def cannot_send() -> dict:
        with engine.connect() as connection:
            during.append(find(connection, "acme", review.id))
        raise ValueError("Leverantören saknar e-postadress i Fortnox")

    with pytest.raises(ValueError, match="saknar e-postadress"):
        reject_once(engine, "acme", review, "eva", audit, now, cannot_send, comment="Fel moms")
    assert (during[0].status, during[0].complaint, during[0].decided_by) == (
        "rejected", {"sending_at": "2026-12-04T09:30:00+00:00"}, "eva")
    with engine.connect() as connection:
        released = find(connection, "acme", review.id)
    assert (released.status, released.complaint, released.decided_by, released.comment) == (
        "pending", None, None, review.comment)

    sent = reject_once(engine, "acme", review, "eva", audit, now, lambda: {"sent_at": now.isoformat()},
                       comment="Fel moms")
    stale = reject_once(engine, "acme", review, "olle", audit, now, lambda: pytest.fail("a second complaint"),
                        comment="Saknar projekt")
    assert (sent, stale) == ({"sent_at": "2026-12-04T09:30:00+00:00"}, None)
    with engine.connect() as connection:
        final = find(connection, "acme", review.id)
        assert verify_chain(connection, "acme").ok
        actions = connection.execute(sa.select(audit_events.c.details).where(
            audit_events.c.entity_id == review.id).order_by(audit_events.c.seq)).scalars().all()
    assert (final.status, final.decided_by, final.comment, final.complaint) == (
        "rejected", "eva", "Fel moms", {"sent_at": "2026-12-04T09:30:00+00:00"})
    assert [a["action"] for a in actions if a and "action" in a] == [
        "rejected", "complaint_not_sent", "rejected", "complaint_sent"]

    late = CliRunner().invoke(app, ["invoices", "approve", given, "--tenant", "acme"])
    assert late.exit_code == 1 and "already_decided" in late.output


def test_a_complaint_whose_sending_never_ended_is_shown_as_interrupted(sandboxes, store_env: str) -> None:
    supplier_invoice_validation(tenant="acme")
    engine = open_store(store_env)
    runner = CliRunner()
    given = json.loads(runner.invoke(app, ["invoices", "flagged", "--json"]).output)[0]["givenNumber"]
    with engine.begin() as connection:  # what reject_once commits before it sends; the process then died
        review = find(connection, "acme", given)
        assert review is not None
        assert decide(connection, "acme", review, "rejected", "ai", AuditRecorder("acme", "test"),
                      dt.datetime.now(dt.UTC), comment="Fel moms", complaint={"sending_at": "2026-12-04T09:30:00"})

    listed = json.loads(runner.invoke(app, ["invoices", "flagged", "--status", "rejected", "--json"]).output)
    table = runner.invoke(app, ["invoices", "flagged", "--status", "rejected"], env={"COLUMNS": "300"})

    assert [(item["givenNumber"], item["complaintInterrupted"]) for item in listed] == [(given, True)]
    assert "rejected, sending interrupted" in table.output


def test_an_invoice_settled_in_fortnox_leaves_the_review_list(sandboxes, store_env: str) -> None:
    """Booked, cancelled or given a project in Fortnox while waiting for the reviewer: closed, with why."""
    fortnox, _ = sandboxes
    supplier_invoice_validation(tenant="acme")
    listed = json.loads(CliRunner().invoke(app, ["invoices", "flagged", "--json"]).output)
    booked, cancelled, assigned = (item["givenNumber"] for item in listed[:3])
    fortnox.state.store("supplierinvoices", booked, {**remote(fortnox, booked), "Booked": True})
    fortnox.state.store("supplierinvoices", cancelled, {**remote(fortnox, cancelled), "Cancelled": True})
    fortnox.state.store("supplierinvoices", assigned, {**remote(fortnox, assigned), "Project": "1313"})

    rerun = supplier_invoice_validation(tenant="acme")

    assert (rerun.settled, rerun.processed) == (3, 0)
    with open_store(store_env).connect() as connection:
        closed = dict(connection.execute(
            sa.select(invoice_reviews.c.given_number, invoice_reviews.c.comment)
            .where(invoice_reviews.c.status == "closed", invoice_reviews.c.decided_by == "fortnox")).all())
    assert closed == {booked: "Bokförd i Fortnox", cancelled: "Makulerad i Fortnox",
                      assigned: "Projekt 1313 satt i Fortnox"}
    still = {item["givenNumber"] for item in json.loads(CliRunner().invoke(app, ["invoices", "flagged", "--json"]).output)}
    assert still == {item["givenNumber"] for item in listed} - {booked, cancelled, assigned}


# ---------------------------------------------------------------------------------------------
# Our company: the LEDGERFLOW_COMPANY_* settings, else Fortnox's company information (issue 15)

COMPANY_SETTINGS = ("LEDGERFLOW_COMPANY_NAME", "LEDGERFLOW_COMPANY_ORG_NR", "LEDGERFLOW_COMPANY_VAT_NUMBER",
                    "LEDGERFLOW_COMPANY_INVOICE_ADDRESS", "LEDGERFLOW_COMPANY_CONTACT_EMAIL")


def complaints(graph: GraphSandbox) -> list[dict]:
    return [m for m in graph.state.messages if m["subject"].startswith("Reklamation")]


def signed_by(message: dict) -> tuple[str, str]:
    """(company in the signature, org.nr under "Rätt uppgifter") of a complaint as the supplier reads it."""
    text = re.sub(r"<[^>]+>", "\n", message["body"])
    org_nr = re.search(r"Org\.nr: (\S+)", text)
    lines = [line.strip() for line in text.rsplit("Med vänliga hälsningar", 1)[-1].splitlines() if line.strip()]
    assert org_nr and lines, message["body"]
    return lines[0], org_nr.group(1)


def fortnox_requests(fortnox: FortnoxSandbox, route: str) -> int:
    return httpx.get(f"{fortnox.url}/_sandbox/stats", timeout=10).json()["by_route"].get(route, 0)


def test_a_fresh_setup_takes_our_company_from_fortnox(sandboxes, store_env: str,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """No LEDGERFLOW_COMPANY_* at all: name and org.nr come from GET /3/companyinformation, once a run."""
    fortnox, graph = sandboxes
    for name in COMPANY_SETTINGS:
        monkeypatch.delenv(name)
    monkeypatch.setenv("LEDGERFLOW_INVOICE_AUTO_REJECT", "true")
    monkeypatch.setenv("LEDGERFLOW_INVOICE_ESCALATION_DAYS", "0")
    company = fortnox.state.company_information
    assert (company["CompanyName"], company["OrganizationNumber"]) == ("Ekbacken Bygg AB", "559138-1248")
    httpx.post(f"{fortnox.url}/_sandbox/stats/reset", timeout=10)

    summary = supplier_invoice_validation(tenant="acme")

    assert fortnox_requests(fortnox, "GET /3/companyinformation") == 1
    assert summary.auto_approved > 0  # the invoices are addressed to the company Fortnox named
    sent = complaints(graph)
    assert summary.complaints_sent == len(sent) > 0
    assert {signed_by(m) for m in sent} == {("Ekbacken Bygg AB", "559138-1248")}

    # The reviewer's complaint, from the command line, is signed the same way.
    runner = CliRunner()
    listed = json.loads(runner.invoke(app, ["invoices", "flagged", "--json"]).output)
    given = next(item["givenNumber"] for item in listed
                 if fortnox.state.get("suppliers", remote(fortnox, item["givenNumber"])["SupplierNumber"])["Email"])
    rejected = runner.invoke(app, ["invoices", "reject", given, "--reason", "Saknar projektnummer"])
    assert rejected.exit_code == 0, rejected.output
    assert signed_by(complaints(graph)[-1]) == ("Ekbacken Bygg AB", "559138-1248")
    assert fortnox_requests(fortnox, "GET /3/companyinformation") == 2  # nothing cached between runs


@pytest.mark.parametrize(("setting", "value", "expected"), [
    ("LEDGERFLOW_COMPANY_NAME", "Ekbacken Bygg Aktiebolag", ("Ekbacken Bygg Aktiebolag", "559138-1248")),
    ("LEDGERFLOW_COMPANY_ORG_NR", "556036-0793", ("Ekbacken Bygg AB", "556036-0793")),
])
def test_a_company_setting_overrides_fortnox_for_its_field_only(
        sandboxes, store_env: str, monkeypatch: pytest.MonkeyPatch, setting: str, value: str,
        expected: tuple[str, str]) -> None:
    fortnox, graph = sandboxes
    for name in COMPANY_SETTINGS:
        monkeypatch.delenv(name)
    monkeypatch.setenv(setting, value)
    monkeypatch.setenv("LEDGERFLOW_INVOICE_AUTO_REJECT", "true")
    monkeypatch.setenv("LEDGERFLOW_INVOICE_ESCALATION_DAYS", "0")

    summary = supplier_invoice_validation(tenant="acme")

    sent = complaints(graph)
    assert summary.complaints_sent == len(sent) > 0
    assert {signed_by(m) for m in sent} == {expected}


def test_with_both_settings_fortnox_is_not_asked(sandboxes, store_env: str) -> None:
    fortnox, graph = sandboxes  # sandbox_company_env sets name and org.nr
    httpx.post(f"{fortnox.url}/_sandbox/stats/reset", timeout=10)
    supplier_invoice_validation(tenant="acme")
    assert fortnox_requests(fortnox, "GET /3/companyinformation") == 0
    assert fortnox_requests(fortnox, "GET /3/supplierinvoices") > 0


def test_without_settings_or_fortnox_s_answer_the_run_fails_with_one_line(
        sandboxes, store_env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    fortnox, _ = sandboxes
    monkeypatch.delenv("LEDGERFLOW_COMPANY_NAME")
    monkeypatch.delenv("LEDGERFLOW_COMPANY_ORG_NR")
    monkeypatch.setenv("LEDGERFLOW_HTTP_ATTEMPTS", "2")
    fortnox.state.company_information = {**fortnox.state.company_information, "CompanyName": ""}
    with pytest.raises(ValueError, match=r"LEDGERFLOW_COMPANY_NAME and LEDGERFLOW_COMPANY_ORG_NR.*"
                                         r"GET /3/companyinformation.*company information has no CompanyName$"):
        supplier_invoice_validation(tenant="acme")
    fortnox.state.add_rule(Rule("GET", "/3/companyinformation", {}, 403, 2000663, "Har inte behörighet för scope."))

    with pytest.raises(ValueError, match=r"LEDGERFLOW_COMPANY_NAME and LEDGERFLOW_COMPANY_ORG_NR.*"
                                         r"GET /3/companyinformation.*403 \(code 2000663\)"):
        supplier_invoice_validation(tenant="acme")
    assert fortnox_requests(fortnox, "GET /3/supplierinvoices") == 0  # nothing was looked at
    assert reviews_by_status(store_env) == {}

    fortnox.stop()  # Fortnox unreachable: the command says what to set, in one line
    result = CliRunner().invoke(app, ["run", "invoice-validation", "--tenant", "acme"], env={"COLUMNS": "400"})

    assert result.exit_code == 1
    line, = result.output.strip().splitlines()
    assert line.startswith("our company is unknown: set LEDGERFLOW_COMPANY_NAME and LEDGERFLOW_COMPANY_ORG_NR, "
                           "or let Fortnox answer GET /3/companyinformation (scope companyinformation); Fortnox: ")
    assert line.endswith("/3/companyinformation -> None: [Errno 111] Connection refused")

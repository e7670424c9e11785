"""Supplier-invoice validation every 5 minutes (seed 002 BC11, the hybrid model).

New and changed Fortnox supplier invoices → their PDFs → fields (rules, plus Claude when a key is
set) → project match against the registry (WorkCloud and Fortnox projects) → checks →
confidence. At 95 % or more the project and an "AI-validerad" comment go to Fortnox; below, the
invoice joins the reviewer's list (`ledgerflow invoices flagged`, the review API). Below 60 %
a complaint is sent by itself only when `invoice_auto_reject` is on. Flagged invoices due within
`invoice_escalation_days` are escalated to the reviewer once. Every decision is stored with its
reasons, and audited.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from dataclasses import asdict, dataclass, field

import sqlalchemy as sa

from connectors import fortnox as fx
from connectors.graph_mail import GraphMailClient
from connectors.http import ApiError
from flows.alerting import notify_failure
from flows.connections import claude_reader, fortnox_client, graph_mailer, our_company
from flows.settings import Settings
from models.audit import AuditRecorder
from models.bookkeeping import get_cursor, log_sync, set_cursor
from models.invoice_review import Analysis, Band, Buyer
from models.reviews import OPEN, find, flagged, known_versions, mark_escalated, reject_once, save_analysis, settle
from models.store import open_store
from tasks.invoice_analysis.actions import approval_comment, send_complaint, write_project
from tasks.invoice_analysis.complaint import FlaggedInvoice, compose_escalation
from tasks.invoice_analysis.documents import Reader, analyze_documents
from tasks.invoice_analysis.inbox import Incoming, changes, fetch_documents, seen
from tasks.invoice_analysis.registry import Registry
from tasks.metrics import api_usage
from tasks.runtime import flow, publish_table, run_id, run_logger

CURSOR = "supplier_invoice_validation"
CURSOR_OVERLAP = dt.timedelta(seconds=60)
AI = "ai"


@dataclass
class ValidationSummary:
    """What one run did; the Prefect table artifact and the CLI show it."""

    tenant: str
    listed: int = 0  # changed in Fortnox since the last run
    processed: int = 0  # analysed (new or changed, not booked, without a project)
    auto_approved: int = 0
    suggestion: int = 0
    alternatives: int = 0
    manual: int = 0
    complaints_sent: int = 0
    escalated: int = 0
    failed_writes: int = 0  # approvals Fortnox refused: left on the list with the reason
    no_document: int = 0
    settled: int = 0  # left the review list: booked, cancelled or given a project in Fortnox meanwhile
    decisions: list[dict[str, object]] = field(default_factory=list)


@flow(name="supplier_invoice_validation", on_failure=notify_failure)
def supplier_invoice_validation(tenant: str | None = None) -> ValidationSummary:
    """Validate the tenant's new and changed Fortnox supplier invoices."""
    settings = Settings()
    tenant_id = tenant or settings.tenant
    mailer = graph_mailer(settings)
    try:
        summary = _cycle(settings, tenant_id, mailer)
    finally:
        if mailer is not None:
            mailer.close()
    run_logger().info("%s: %d listed, %d analysed, %d auto-approved, %d to review, %d complaints", tenant_id,
                          summary.listed, summary.processed, summary.auto_approved,
                          summary.suggestion + summary.alternatives + summary.manual, summary.complaints_sent)
    publish_table(
        key=f"invoice-validation-{re.sub(r'[^a-z0-9-]+', '-', tenant_id.lower())}",
        table=[{k: v for k, v in asdict(summary).items() if k != "decisions"}],
        description="Supplier-invoice validation: processed, auto-approved, flagged per band, complaints sent",
    )
    return summary


def _cycle(settings: Settings, tenant_id: str, mailer: GraphMailClient | None) -> ValidationSummary:
    """Steps 1-9 for one tenant: poll, read, match, decide, store, settle, escalate."""
    engine = open_store(settings.database_url)
    summary = ValidationSummary(tenant_id)
    now, started = dt.datetime.now(dt.UTC), time.monotonic()
    usage = api_usage()
    usage.take()  # what this run costs from here on
    audit = AuditRecorder(tenant_id, f"supplier_invoice_validation/{run_id()}")
    with engine.connect() as connection:
        cursor = get_cursor(connection, tenant_id, "fortnox", CURSOR)
        registry = Registry.from_store(connection, tenant_id)
    since = dt.datetime.fromisoformat(cursor) if cursor else None
    next_cursor = now - CURSOR_OVERLAP

    with fortnox_client(settings, engine, tenant_id) as client:
        buyer = our_company(settings, client)  # who invoices must be addressed to: settings, else Fortnox
        changed = changes(client, since)
        summary.listed = len(changed.open) + len(changed.settled)
        with engine.connect() as connection:
            versions = known_versions(connection, tenant_id, [item.given_number for item in changed.open])
        todo = [invoice for invoice in map(seen, changed.open)
                if versions.get(invoice.given_number) != invoice.source_version]  # new, or changed since decided
        documents = fetch_documents(client, todo)
        reader = Reader(engine, tenant_id, claude_reader(settings))
        analyses = analyze_documents([(d.file_name, d.pdf) for d in documents], reader, registry, buyer)

        # Each decision is committed on its own, right after what it did in Fortnox or by mail: a run
        # that stops halfway keeps the decisions it acted on (the next run skips them, so nothing is
        # sent twice), and no transaction stays open while an HTTP call waits or retries.
        for incoming, analysis in zip(documents, analyses, strict=True):
            _decide(engine, client, mailer, settings, tenant_id, buyer, registry, incoming, analysis, audit, now,
                    summary)
        with engine.begin() as connection:
            summary.settled = settle(connection, tenant_id, changed.settled, audit, now)
            audit.flush(connection)
            set_cursor(connection, tenant_id, "fortnox", CURSOR, next_cursor.isoformat())
            # A sync log line like every import's: the daily report, the alerts and the metrics see the run.
            log_sync(connection, tenant_id, "fortnox", "supplier_invoice_review",
                     "partial" if summary.failed_writes else "success", len(documents), sync_type="scheduled",
                     duration_ms=int((time.monotonic() - started) * 1000), flow_run_id=run_id(),
                     details={"auto_approved": summary.auto_approved, "settled": summary.settled,
                              "refused_by_fortnox": summary.failed_writes, "api": usage.take()})
    summary.processed = len(documents)
    summary.escalated = _escalate(engine, mailer, settings, tenant_id, now)
    return summary


def _decide(engine: sa.Engine, client: fx.FortnoxClient, mailer: GraphMailClient | None, settings: Settings,
            tenant_id: str, buyer: Buyer, registry: Registry, incoming: Incoming, analysis: Analysis,
            audit: AuditRecorder, now: dt.datetime, summary: ValidationSummary) -> None:
    """Act on one analysis and store it: approve in Fortnox, flag, or (optionally) complain.

    Each call to Fortnox or Graph happens outside a transaction; what it did is committed next.
    """
    invoice = incoming.invoice
    status, decided_by, comment = "pending", None, None
    if incoming.pdf is None:
        summary.no_document += 1
    if analysis.band is Band.AUTO_APPROVE and analysis.project:
        project = registry.project(analysis.project)
        comment = approval_comment(analysis.project, project.name if project else None, confidence=analysis.confidence)
        try:
            write_project(client, invoice.given_number, analysis.project, comment)
            status, decided_by = "auto_approved", AI
            summary.auto_approved += 1
        except ApiError as error:
            comment = f"Fortnox tog inte emot projektet: {error}"
            summary.failed_writes += 1
    complain = (status == "pending" and analysis.band is Band.MANUAL and settings.invoice_auto_reject
                and mailer is not None)
    with engine.begin() as connection:
        review_id = save_analysis(connection, tenant_id, invoice, analysis, status, decided_by, comment, audit, now)
        audit.flush(connection)
        review = find(connection, tenant_id, review_id) if complain else None
    if status == "pending":
        band = Band.SUGGESTION if analysis.band is Band.AUTO_APPROVE else analysis.band  # a refused auto-approval
        setattr(summary, band.value, getattr(summary, band.value) + 1)
    if review is not None and mailer is not None:  # complain
        reasons = [c.message for c in analysis.checks if not c.ok and c.severity == "error"] or [
            "Fakturan saknar uppgifter som knyter den till ett av våra projekt"]
        try:
            complaint = reject_once(
                engine, tenant_id, review, AI, audit, now,
                lambda: send_complaint(client, mailer, settings.graph_sender, review, buyer, reasons, None, now),
                comment="; ".join(reasons))
        except (ApiError, ValueError) as error:
            run_logger().warning("invoice %s: no complaint sent: %s", invoice.given_number, error)
        else:
            if complaint is not None:
                summary.complaints_sent += 1
            if complaint and "fortnox_comment_error" in complaint:
                run_logger().warning("invoice %s: complaint sent, but Fortnox refused the comment: %s",
                                         invoice.given_number, complaint["fortnox_comment_error"])
    summary.decisions.append({"given_number": invoice.given_number, "project": analysis.project,
                              "confidence": analysis.confidence, "band": str(analysis.band), "status": status})


def _escalate(engine: sa.Engine, mailer: GraphMailClient | None, settings: Settings, tenant_id: str,
              now: dt.datetime) -> int:
    """Step 9: flagged invoices due within the escalation window, not escalated before, go to the
    reviewer in one notice. Without mail or a reviewer they stay on the list and are logged."""
    horizon = now.date() + dt.timedelta(days=settings.invoice_escalation_days)
    with engine.connect() as connection:
        due = [r for r in flagged(connection, tenant_id, OPEN)
               if r.due_date and r.due_date <= horizon and r.escalated_at is None]
    if not due:
        return 0
    if mailer is None or not settings.invoice_reviewer_email:
        run_logger().warning("%d flagged invoices are due within %d days; no reviewer e-mail is configured",
                                 len(due), settings.invoice_escalation_days)
        return 0
    notice = compose_escalation([FlaggedInvoice.model_validate(r, from_attributes=True) for r in due],
                                settings.invoice_reviewer_email, now.date(),
                                within_days=settings.invoice_escalation_days)
    mailer.send(notice, settings.graph_sender)
    with engine.begin() as connection:
        mark_escalated(connection, [r.id for r in due], now)
    return len(due)


if __name__ == "__main__":
    supplier_invoice_validation()

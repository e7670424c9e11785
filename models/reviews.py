"""Invoice reviews: what the validation decided about each Fortnox supplier invoice, and why.

Seed 002 BC11 §4.3: every result is stored (step 6), the reviewer's list is ordered by urgency,
and every decision (the AI's or a person's) is logged. A review row is keyed by the invoice's
Fortnox number; each change of its status also writes an audit event, so the chain shows who
decided what, when, and on which evidence.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from models.audit import AuditRecorder
from models.invoice_review import Analysis, ReviewStatus
from models.tables import invoice_reviews

OPEN: tuple[ReviewStatus, ...] = ("pending", "waiting")  # still on the reviewer's list


@dataclass(frozen=True)
class InvoiceSeen:
    """A supplier invoice as the validation found it in Fortnox (the review's header)."""

    given_number: str
    invoice_number: str | None
    supplier_number: str | None
    supplier_name: str | None
    invoice_date: dt.date | None
    due_date: dt.date | None
    total: Decimal | None
    currency: str | None
    source_version: str  # a hash of what decides the review: a changed invoice gets a new one


@dataclass(frozen=True)
class Review(InvoiceSeen):
    """A stored review: the invoice as last seen, and what was decided about it."""

    id: str
    pdf_sha256: str | None
    analysis: dict[str, Any] | None
    project_number: str | None
    confidence: int
    band: str
    status: str
    decided_by: str | None
    decided_at: dt.datetime | None
    comment: str | None
    complaint: dict[str, Any] | None
    escalated_at: dt.datetime | None

    @classmethod
    def of(cls, row: sa.Row[Any]) -> Review:
        return cls(**{name: getattr(row, name) for name in cls.__dataclass_fields__})

    @property
    def alternatives(self) -> list[dict[str, Any]]:
        return list((self.analysis or {}).get("candidates", [])[1:])

    @property
    def complaint_interrupted(self) -> bool:
        """Rejected, and its complaint's sending began but never ended (:func:`reject_once`): whether
        the supplier got it is for a person to check in the sender's mailbox."""
        return self.status == "rejected" and bool(self.complaint) and "sending_at" in self.complaint \
            and "sent_at" not in self.complaint

    @property
    def reasons(self) -> list[str]:
        candidates = (self.analysis or {}).get("candidates", [])
        return list(candidates[0].get("reasons", [])) if candidates else []


def known_versions(connection: sa.Connection, tenant_id: str, given_numbers: Iterable[str]) -> dict[str, str]:
    """The source version each of these invoices was last decided on."""
    numbers = list(given_numbers)
    if not numbers:
        return {}
    rows = connection.execute(
        sa.select(invoice_reviews.c.given_number, invoice_reviews.c.source_version)
        .where(invoice_reviews.c.tenant_id == tenant_id, invoice_reviews.c.given_number.in_(numbers))
    )
    return {number: version for number, version in rows}


def save_analysis(
    connection: sa.Connection,
    tenant_id: str,
    invoice: InvoiceSeen,
    analysis: Analysis,
    status: ReviewStatus,
    decided_by: str | None,
    comment: str | None,
    audit: AuditRecorder,
    now: dt.datetime,
) -> str:
    """Store a (re)decided invoice: the whole analysis, its outcome and an audit event."""
    values: dict[str, Any] = {
        "invoice_number": invoice.invoice_number, "supplier_number": invoice.supplier_number,
        "supplier_name": invoice.supplier_name, "invoice_date": invoice.invoice_date, "due_date": invoice.due_date,
        "total": invoice.total, "currency": invoice.currency, "source_version": invoice.source_version,
        "pdf_sha256": analysis.extraction.sha256,
        "analysis": analysis.model_dump(mode="json"),
        "project_number": analysis.project,
        "confidence": analysis.confidence,
        "band": str(analysis.band),
        "status": status, "decided_by": decided_by, "decided_at": now if decided_by else None, "comment": comment,
        "complaint": None, "escalated_at": None, "updated_at": now,
    }
    existing = connection.execute(
        sa.select(invoice_reviews.c.id).where(invoice_reviews.c.tenant_id == tenant_id,
                                              invoice_reviews.c.given_number == invoice.given_number)
    ).scalar_one_or_none()
    if existing is None:
        review_id = str(uuid.uuid4())
        connection.execute(invoice_reviews.insert().values(id=review_id, tenant_id=tenant_id,
                                                           given_number=invoice.given_number, created_at=now, **values))
    else:
        review_id = existing
        connection.execute(invoice_reviews.update().where(invoice_reviews.c.id == review_id).values(**values))
    audit.record("create" if existing is None else "update", "invoice_review", review_id, occurred_at=now,
                 new_state={k: values[k] for k in ("project_number", "confidence", "band", "status", "decided_by",
                                                   "comment", "pdf_sha256")},
                 details={"given_number": invoice.given_number, "source_system": "fortnox"})
    return review_id


def find(connection: sa.Connection, tenant_id: str, key: str) -> Review | None:
    """A review by its id, or by the Fortnox invoice number (what a reviewer sees and types)."""
    row = connection.execute(
        sa.select(invoice_reviews).where(invoice_reviews.c.tenant_id == tenant_id,
                                         sa.or_(invoice_reviews.c.id == key, invoice_reviews.c.given_number == key))
    ).first()
    return Review.of(row) if row else None


def flagged(
    connection: sa.Connection,
    tenant_id: str,
    statuses: Iterable[str] = OPEN,
    bands: Iterable[str] | None = None,
) -> list[Review]:
    """The reviewer's list: most urgent first (due date, then the least sure), seed 002 §4.3 and
    issue step 9. Invoices without a due date come last."""
    query = sa.select(invoice_reviews).where(invoice_reviews.c.tenant_id == tenant_id,
                                             invoice_reviews.c.status.in_(list(statuses)))
    if bands is not None:
        query = query.where(invoice_reviews.c.band.in_(list(bands)))
    query = query.order_by(invoice_reviews.c.due_date.is_(None), invoice_reviews.c.due_date,
                           invoice_reviews.c.confidence, invoice_reviews.c.given_number)
    return [Review.of(row) for row in connection.execute(query)]


def decide(
    connection: sa.Connection,
    tenant_id: str,
    review: Review,
    status: ReviewStatus,
    decided_by: str,
    audit: AuditRecorder,
    now: dt.datetime,
    *,
    project_number: str | None = None,
    comment: str | None = None,
    complaint: dict[str, Any] | None = None,
) -> bool:
    """A decision (approve, reject, wait), with an audit event naming who made it.

    Only if the review is still as `review` read it: False, and nothing written, when someone
    else decided in between (the validation run and a reviewer, or two reviewers)."""
    values: dict[str, Any] = {"status": status, "decided_by": decided_by, "decided_at": now, "updated_at": now,
                              "comment": comment}
    if project_number is not None:
        values["project_number"] = project_number
    if complaint is not None:
        values["complaint"] = complaint
    changed = connection.execute(invoice_reviews.update().where(
        invoice_reviews.c.tenant_id == tenant_id, invoice_reviews.c.id == review.id,
        invoice_reviews.c.status == review.status).values(**values)).rowcount
    if changed:
        audit.record("update", "invoice_review", review.id, occurred_at=now,
                     previous_state={"status": review.status, "project_number": review.project_number},
                     new_state={k: v for k, v in values.items() if k not in ("decided_at", "updated_at")},
                     details={"given_number": review.given_number, "action": status})
    return bool(changed)


def reject_once(
    engine: sa.Engine,
    tenant_id: str,
    review: Review,
    decided_by: str,
    audit: AuditRecorder,
    now: dt.datetime,
    send: Callable[[], dict[str, Any]],
    *,
    comment: str,
    project_number: str | None = None,
) -> dict[str, Any] | None:
    """Reject `review` and have `send` mail its complaint, so that no invoice is complained about twice.

    The rejection is committed first, marked ``sending_at``, so neither a reviewer nor the next
    run can act on the invoice while the mail goes out; then `send` runs, outside any
    transaction; then its log replaces the mark. If `send` raises (it raises only while nothing
    has gone out) the review is open again, as it was. If the process dies while sending, the
    review stays rejected with the mark and no ``sent_at``: a complaint that may be missing is
    seen on the rejected list, one sent twice could not be taken back. Returns the complaint's
    log, or None when someone else decided the invoice first.
    """
    with engine.begin() as connection:
        claimed = decide(connection, tenant_id, review, "rejected", decided_by, audit, now, comment=comment,
                         project_number=project_number, complaint={"sending_at": now.isoformat()})
        audit.flush(connection)
    if not claimed:
        return None
    try:
        complaint = send()
    except BaseException:
        with engine.begin() as connection:
            connection.execute(invoice_reviews.update().where(invoice_reviews.c.id == review.id).values(
                status=review.status, decided_by=review.decided_by, decided_at=review.decided_at,
                comment=review.comment, project_number=review.project_number, complaint=None,
                updated_at=dt.datetime.now(dt.UTC)))
            audit.record("update", "invoice_review", review.id, occurred_at=dt.datetime.now(dt.UTC),
                         previous_state={"status": "rejected"}, new_state={"status": review.status},
                         details={"given_number": review.given_number, "action": "complaint_not_sent"})
            audit.flush(connection)
        raise
    with engine.begin() as connection:
        connection.execute(invoice_reviews.update().where(invoice_reviews.c.id == review.id).values(
            complaint=complaint, updated_at=dt.datetime.now(dt.UTC)))
        audit.record("update", "invoice_review", review.id, occurred_at=dt.datetime.now(dt.UTC),
                     new_state={"complaint": complaint},
                     details={"given_number": review.given_number, "action": "complaint_sent"})
        audit.flush(connection)
    return complaint


def mark_escalated(connection: sa.Connection, review_ids: Iterable[str], now: dt.datetime) -> None:
    ids = list(review_ids)
    if ids:
        connection.execute(invoice_reviews.update().where(invoice_reviews.c.id.in_(ids)).values(escalated_at=now))


def settle(connection: sa.Connection, tenant_id: str, settled: dict[str, str], audit: AuditRecorder,
           now: dt.datetime) -> int:
    """Close the open reviews of invoices that were settled in Fortnox meanwhile (booked, cancelled,
    or given a project by someone there): nothing is left for the reviewer to decide."""
    if not settled:
        return 0
    rows = connection.execute(
        sa.select(invoice_reviews).where(invoice_reviews.c.tenant_id == tenant_id,
                                         invoice_reviews.c.status.in_(OPEN),
                                         invoice_reviews.c.given_number.in_(list(settled)))
    ).all()
    for row in rows:
        review = Review.of(row)
        decide(connection, tenant_id, review, "closed", "fortnox", audit, now, comment=settled[review.given_number])
    return len(rows)

"""The reviewer's actions on flagged supplier invoices (seed 002 §4.3 flow 2 and 3, §5.4).

Approve writes the project to Fortnox; reject e-mails the supplier a complaint and marks the
invoice "Reklamerad"; wait parks it (e.g. while the project leader is asked). The command line
and the review API both call these, so a decision means the same thing wherever it is made.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

import sqlalchemy as sa

from connectors.http import ApiError
from connectors.fortnox import FortnoxClient
from flows.connections import fortnox_client, graph_mailer, our_company
from flows.settings import Settings
from models.audit import AuditRecorder
from models.invoice_review import Buyer
from models.reviews import OPEN, Review, decide, find, flagged, reject_once
from models.store import open_store
from tasks.invoice_analysis.actions import approval_comment, registry_project, send_complaint, write_project
from tasks.invoice_analysis.registry import Registry

StatusFilter = Literal["pending", "approved", "rejected"]
ConfidenceFilter = Literal["<60", "60-79", "80-94"]
STATUSES: dict[str, tuple[str, ...]] = {"pending": OPEN, "approved": ("approved", "auto_approved"),
                                        "rejected": ("rejected",)}
BANDS = {"<60": "manual", "60-79": "alternatives", "80-94": "suggestion"}


class ReviewError(Exception):
    """A decision that cannot be made; `code` is stable (the API's error code), the message Swedish."""

    def __init__(self, code: str, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def list_flagged(settings: Settings, tenant_id: str, status: StatusFilter = "pending",
                 confidence: ConfidenceFilter | None = None) -> list[Review]:
    with open_store(settings.database_url).connect() as connection:
        return flagged(connection, tenant_id, STATUSES[status], [BANDS[confidence]] if confidence else None)


def _open_review(settings: Settings, tenant_id: str, key: str) -> Review:
    with open_store(settings.database_url).connect() as connection:
        review = find(connection, tenant_id, key)
    if review is None:
        raise ReviewError("not_found", f"Ingen granskning av faktura {key}", 404)
    if review.status not in OPEN:
        raise ReviewError("already_decided", f"Faktura {review.given_number} är redan {review.status} "
                          f"({review.decided_by}, {review.decided_at:%Y-%m-%d %H:%M})")
    return review


def _decided_meanwhile(settings: Settings, tenant_id: str, review: Review) -> ReviewError:
    """Why a decision found the review changed since it was read: decided, or parked, by someone else."""
    try:
        current = _open_review(settings, tenant_id, review.id)
    except ReviewError as error:
        return error
    return ReviewError("changed_meanwhile", f"Faktura {review.given_number} ändrades under tiden (nu {current.status}, "
                       f"{current.decided_by}); försök igen")


def _reread(engine: sa.Engine, tenant_id: str, review: Review) -> Review:
    """The review as the decision just stored it."""
    with engine.connect() as connection:
        decided = find(connection, tenant_id, review.id)
    assert decided is not None
    return decided


def _decided(settings: Settings, tenant_id: str, review: Review, status: Literal["approved", "rejected", "waiting"],
             reviewer: str, **values: object) -> Review:
    now = dt.datetime.now(dt.UTC)
    engine = open_store(settings.database_url)
    audit = AuditRecorder(tenant_id, f"review/{reviewer}")
    with engine.begin() as connection:
        made = decide(connection, tenant_id, review, status, reviewer, audit, now, **values)  # type: ignore[arg-type]
        audit.flush(connection)
    if not made:
        raise _decided_meanwhile(settings, tenant_id, review)
    return _reread(engine, tenant_id, review)


def approve(settings: Settings, tenant_id: str, key: str, reviewer: str, project: str | None = None,
            note: str | None = None) -> Review:
    """Approve with `project` (default: the AI's suggestion) and write it to Fortnox."""
    review = _open_review(settings, tenant_id, key)
    engine = open_store(settings.database_url)
    with engine.connect() as connection:
        registry = Registry.from_store(connection, tenant_id)
    number = project or review.project_number
    if not number:
        raise ReviewError("project_required", "Ange projekt: AI:n hade inget förslag", 400)
    known = registry.project(number)
    if known is None:
        raise ReviewError("unknown_project", f"Projekt {number} finns inte i projektregistret", 400)
    comment = approval_comment(known.number, known.name, reviewer=reviewer, note=note)
    try:
        with fortnox_client(settings, engine, tenant_id) as client:
            write_project(client, review.given_number, known.number, comment)
    except ApiError as error:
        raise ReviewError("fortnox_refused", f"Fortnox tog inte emot projektet: {error}", 502) from error
    return _decided(settings, tenant_id, review, "approved", reviewer, project_number=known.number, comment=comment)


def reject(settings: Settings, tenant_id: str, key: str, reviewer: str, reason: str,
           correct_project: str | None = None) -> Review:
    """Send the supplier a complaint (reklamation) and mark the invoice "Reklamerad" in Fortnox."""
    review = _open_review(settings, tenant_id, key)
    mailer = graph_mailer(settings)
    if mailer is None:
        raise ReviewError("mail_not_configured", "Reklamation kräver LEDGERFLOW_GRAPH_*", 503)
    engine = open_store(settings.database_url)
    with engine.connect() as connection:
        registry = Registry.from_store(connection, tenant_id)
    project = registry_project(registry, correct_project)
    if correct_project and project is None:
        raise ReviewError("unknown_project", f"Projekt {correct_project} finns inte i projektregistret", 400)
    now = dt.datetime.now(dt.UTC)
    audit = AuditRecorder(tenant_id, f"review/{reviewer}")
    try:
        with fortnox_client(settings, engine, tenant_id) as client, mailer:
            buyer = _our_company(settings, client)
            complaint = reject_once(
                engine, tenant_id, review, reviewer, audit, now,
                lambda: send_complaint(client, mailer, settings.graph_sender, review, buyer, [reason], project, now),
                comment=reason, project_number=project.project_number if project else None)
    except ApiError as error:
        raise ReviewError("send_failed", f"Reklamationen kunde inte skickas: {error}", 502) from error
    except ValueError as error:  # e.g. the supplier has no e-mail address in Fortnox
        raise ReviewError("cannot_complain", str(error), 400) from error
    if complaint is None:
        raise _decided_meanwhile(settings, tenant_id, review)
    return _reread(engine, tenant_id, review)


def _our_company(settings: Settings, client: FortnoxClient) -> Buyer:
    """Who signs the complaint: the LEDGERFLOW_COMPANY_* settings, else Fortnox's company information."""
    try:
        return our_company(settings, client)
    except ValueError as error:
        raise ReviewError("company_unknown", f"Reklamation kräver vårt företag: {error}", 503) from None


def wait(settings: Settings, tenant_id: str, key: str, reviewer: str, note: str | None = None) -> Review:
    review = _open_review(settings, tenant_id, key)
    return _decided(settings, tenant_id, review, "waiting", reviewer, comment=note)

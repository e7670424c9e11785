"""What a decision does outside the store: Fortnox learns the project, the supplier gets a complaint.

Seed 002 §5.1 writes the project and a comment with one PUT (`Project`, `Comments`), and §4.3
flow 3 rejects by e-mailing a reklamation (Microsoft Graph) and marking the invoice
"Reklamerad" in its comments. Fortnox's `Comments` is one text field; like the seed's own
example we write the whole of it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from connectors import fortnox as fx
from connectors.graph_mail import GraphMailClient
from connectors.http import ApiError
from models.invoice_review import Buyer, Check
from models.projects import Project
from models.reviews import Review
from tasks.invoice_analysis.complaint import compose_complaint
from tasks.invoice_analysis.registry import Registry


def approval_comment(project: str, project_name: str | None, *, confidence: int | None = None,
                     reviewer: str | None = None, note: str | None = None) -> str:
    """``AI-validerad: 97 % konfidens, Projekt: 1313 Stender VB 1966`` (seed 002), or the reviewer's."""
    named = f"Projekt: {project} {project_name}".rstrip() if project_name else f"Projekt: {project}"
    head = f"Godkänd av {reviewer}" if reviewer else f"AI-validerad: {confidence} % konfidens"
    return f"{head}, {named}" + (f". {note}" if note else "")


def write_project(client: fx.FortnoxClient, given_number: str, project: str, comment: str) -> None:
    client.set_supplier_invoice_project(given_number, project, comment)


def registry_project(registry: Registry, number: str | None) -> Project | None:
    """The registry's project as the complaint names it (number, name, leader)."""
    found = registry.project(number) if number else None
    if found is None:
        return None
    return Project(project_number=found.number, project_name=found.name,
                   project_leader=found.leaders[0] if found.leaders else None, status=found.status)


def send_complaint(
    client: fx.FortnoxClient,
    mailer: GraphMailClient,
    sender: str | None,
    review: Review,
    buyer: Buyer,
    reasons: Sequence[str],
    project: Project | None,
    now: dt.datetime,
) -> dict[str, Any]:
    """E-mail the reklamation to the supplier's address in Fortnox and mark the invoice; returns
    what was sent, for the review's log.

    Raises only while nothing has gone out. Once the e-mail is sent the rejection stands: if
    Fortnox then refuses the "Reklamerad" comment, the returned log says so under
    ``fortnox_comment_error`` instead of raising, which would leave the invoice open for a
    second complaint.
    """
    invoice = client.supplier_invoice(review.given_number)
    supplier = client.get(fx.SUPPLIERS, invoice.supplier_number)
    checks = [Check.model_validate(c) for c in (review.analysis or {}).get("checks", [])]
    message = compose_complaint(invoice, supplier, buyer, list(reasons), checks=checks, project=project)
    mailer.send(message, sender)
    sent: dict[str, Any] = {"to": [r.address for r in message.to], "subject": message.subject,
                            "sent_at": now.isoformat(), "reasons": list(reasons),
                            "attachments": [a.name for a in message.attachments]}
    try:
        client.update(fx.SUPPLIER_INVOICES, review.given_number,
                      {"Comments": f"Reklamerad {now.date().isoformat()}: {'; '.join(reasons)}"})
    except ApiError as error:
        sent["fortnox_comment_error"] = str(error)
    return sent

"""The e-mails the supplier-invoice validation writes: a complaint (reklamation) and an escalation.

Seed 002 §4.3 "Flöde 3: Reklamation": when an invoice is rejected, the supplier gets a professional
Swedish e-mail that names the invoice, says what is wrong, gives the right project and invoice
address, asks for a credit note and a corrected invoice, and carries our invoicing guidelines as a
PDF. Flagged invoices that fall due within a few days are escalated to the reviewer, so that none is
paid late for want of a decision.

Everything is composed from explicit inputs (no settings are read here) and every value is
HTML-escaped: supplier names, reasons and project names come from outside.
"""

from __future__ import annotations

import datetime as dt
import functools
import html
import io
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from connectors import fortnox as fx
from connectors.graph_mail import Attachment, MailMessage, Recipient
from models.invoice_review import Buyer, Check
from models.projects import Project
from models.types import swedish_amount

GUIDELINES_NAME = "Faktureringsriktlinjer.pdf"
_SEPARATORS = re.compile(r"[;,\s]+")


class FlaggedInvoice(BaseModel):
    """An invoice waiting for the reviewer; an `invoice_reviews` row validates into it as it is."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    given_number: str
    invoice_number: str | None = None
    supplier_name: str | None = None
    due_date: dt.date
    total: Decimal | None = None
    currency: str | None = None
    confidence: int = Field(ge=0, le=100)


# --------------------------------------------------------------------------- text helpers
def _amount(amount: Decimal, currency: str | None) -> str:
    """Swedish style: ``25 000,00 SEK`` (a non-breaking space between thousands, decimal comma)."""
    return swedish_amount(amount, currency or "SEK")


def _e(text: object) -> str:
    return html.escape(str(text))


def _paragraph(*lines: str) -> str:
    return "<p>" + "<br>".join(_e(line) for line in lines) + "</p>"


def _heading(text: str) -> str:
    return f"<p><strong>{_e(text)}</strong></p>"


def _bullets(items: Iterable[str]) -> str:
    return "<ul>" + "".join(f"<li>{_e(item)}</li>" for item in items) + "</ul>"


def _signature(buyer: Buyer) -> list[str]:
    return [line for line in (buyer.contact_name, buyer.name, buyer.contact_email, buyer.contact_phone) if line]


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(item.strip() for item in items if item.strip()))


# --------------------------------------------------------------------------- the guidelines PDF
def _guidelines_html(buyer: Buyer) -> str:
    address = [buyer.name, *buyer.invoice_address, f"Org.nr {buyer.org_nr}"]
    if buyer.vat_number:
        address.append(f"Momsreg.nr {buyer.vat_number}")
    channels = []
    if buyer.peppol_id:
        channels.append(f"Vi tar helst emot e-faktura via Peppol (Peppol BIS Billing 3.0) till {buyer.peppol_id}.")
    if buyer.invoice_email:
        channels.append(f"PDF-fakturor skickas till {buyer.invoice_email}, en faktura per PDF-fil. PDF:en ska "
                        "innehålla text, inte vara en inskannad bild.")
    if not channels:
        channels.append("Skicka fakturan elektroniskt, i första hand som e-faktura.")
    contact = ", ".join(line for line in (buyer.contact_name, buyer.contact_email, buyer.contact_phone) if line)
    sections = [
        ("1. Projektnummer och projektnamn", [
            "Varje faktura ska ange projektnummer och projektnamn, till exempel: Projekt 1313 Stender VB 1966.",
            "En faktura avser ett projekt. Leveranser till flera projekt faktureras var för sig.",
        ]),
        ("2. Arbetsorder", [
            "Gäller leveransen en arbetsorder ska arbetsorderns WW-nummer anges, till exempel: Arbetsorder WW1245.",
        ]),
        ("3. Er referens", [
            "Som Er referens anges projektledaren för projektet, inte den som beställde på arbetsplatsen.",
        ]),
        ("4. Fakturaadress", [
            "Fakturan ska ställas till:", *address,
            "Fakturor med annan mottagare eller adress kan inte attesteras.",
        ]),
        ("5. Moms och omvänd betalningsskyldighet", [
            "Byggtjänster som vi köper omfattas av omvänd betalningsskyldighet för moms. Fakturan ska då inte "
            "innehålla moms utan ange texten \"Omvänd betalningsskyldighet för byggtjänster\" samt både ert och "
            "vårt momsregistreringsnummer.",
            "Varor och tjänster som inte är byggtjänster faktureras med moms (normalt 25 %), med momsbeloppet "
            "angivet per momssats.",
        ]),
        ("6. E-faktura", channels),
        ("7. Betalningsvillkor", [
            f"{buyer.payment_terms_days} dagar netto från fakturadatum. Ange förfallodatum, bankgiro eller plusgiro "
            "och OCR-nummer på fakturan.",
            "En faktura som inte följer riktlinjerna reklameras och betalas först när en korrekt faktura har kommit "
            "in. Betalningstiden räknas från den dagen.",
        ]),
    ]
    parts = [f"<h1>Faktureringsriktlinjer</h1><p>för leverantörer till {_e(buyer.name)}</p>"]
    for title, paragraphs in sections:
        parts.append(f"<h2>{_e(title)}</h2>" + "".join(f"<p>{_e(text)}</p>" for text in paragraphs))
    if contact:
        parts.append(f"<p><i>Frågor om fakturering: {_e(contact)}</i></p>")
    return "".join(parts)


_CSS = "body {font-family: sans-serif; font-size: 10pt;} h1 {font-size: 20pt;} h2 {font-size: 12pt; margin-top: 12pt;}"


@functools.lru_cache(maxsize=8)
def invoicing_guidelines(buyer: Buyer) -> bytes:
    """The guidelines as a PDF (A4, real text). Made once per buyer and process: every complaint attaches it.
    PyMuPDF is imported here: the reviewer's list and decisions import this module and need no PDF."""
    import pymupdf

    from connectors import mupdf

    with mupdf.LOCK:
        story = pymupdf.Story(html=_guidelines_html(buyer), user_css=_CSS)
        buffer = io.BytesIO()
        writer = pymupdf.DocumentWriter(buffer)
        page = pymupdf.paper_rect("a4")
        more = True
        while more:
            device = writer.begin_page(page)
            more, _ = story.place(page + (56, 56, -56, -56))
            story.draw(device)
            writer.end_page()
        writer.close()
        document = pymupdf.open(stream=buffer.getvalue(), filetype="pdf")
        document.set_metadata({"title": f"Faktureringsriktlinjer – {buyer.name}", "author": buyer.name})
        data = document.tobytes(garbage=3, deflate=True)
        document.close()
        return data


# --------------------------------------------------------------------------- the complaint
def _recipients(supplier: fx.Supplier) -> list[Recipient]:
    """The supplier's e-mail from Fortnox; the field sometimes holds several addresses."""
    addresses = [address for address in _SEPARATORS.split(supplier.email or "") if address]
    if not addresses:
        raise ValueError(f"supplier {supplier.supplier_number} ({supplier.name}) has no e-mail address in Fortnox")
    return [Recipient(address=address, name=supplier.name) for address in addresses]


def compose_complaint(
    invoice: fx.SupplierInvoiceItem,
    supplier: fx.Supplier,
    buyer: Buyer,
    reasons: Sequence[str],
    *,
    checks: Sequence[Check] = (),
    project: Project | None = None,
    work_order: str | None = None,
) -> MailMessage:
    """The reklamation of `invoice` to `supplier`, with the invoicing guidelines attached.

    `reasons` are the reviewer's words ("Saknar projektnummer"); the failed `checks` of the analysis are
    added after them. `project` is the project the invoice should have named, when it is known.
    """
    if isinstance(reasons, str):
        raise TypeError("reasons is a list of reasons, not one string")  # a string would list its letters
    if not invoice.invoice_number:
        raise ValueError(f"supplier invoice {invoice.given_number} has no invoice number to refer to")
    wrong = _unique([*reasons, *(check.message for check in checks if not check.ok and check.severity != "info")])
    if not wrong:
        raise ValueError("a complaint needs at least one reason")

    facts = [f"Fakturanummer: {invoice.invoice_number}"]
    if invoice.invoice_date:
        facts.append(f"Fakturadatum: {invoice.invoice_date.isoformat()}")
    if invoice.due_date:
        facts.append(f"Förfallodatum: {invoice.due_date.isoformat()}")
    if invoice.total is not None:
        facts.append(f"Belopp: {_amount(invoice.total, invoice.currency)}")

    correct = []
    if project:
        correct.append(f"Projekt: {project.project_number} {project.project_name}")
    if work_order:
        correct.append(f"Arbetsorder: {work_order}")
    if project and project.project_leader:
        correct.append(f"Er referens: {project.project_leader} (projektledare)")
    if buyer.invoice_address:
        correct.append(f"Fakturaadress: {buyer.address_line}")
    correct.append(f"Org.nr: {buyer.org_nr}")
    if buyer.vat_number:
        correct.append(f"Momsreg.nr: {buyer.vat_number}")

    body = "".join([
        _paragraph("Hej,"),
        _paragraph(f"Vi har tagit emot faktura {invoice.invoice_number} från {supplier.name} och kan tyvärr inte "
                   "godkänna den för betalning. Vi reklamerar därför fakturan."),
        _heading("Fakturan"), _bullets(facts),
        _heading("Det här är fel"), _bullets(wrong),
        _heading("Rätt uppgifter"), _bullets(correct),
        _paragraph("Vi ber er att skicka en kreditfaktura på hela beloppet och därefter en ny faktura med rätt "
                   "uppgifter. Fakturan betalas inte i sin nuvarande form; betalningsvillkoret räknas från den dag "
                   "den rättade fakturan kommer in."),
        _paragraph(f"Våra faktureringsriktlinjer bifogas ({GUIDELINES_NAME}). Hör gärna av er om något är oklart."),
        _paragraph("Med vänliga hälsningar", *_signature(buyer)),
    ])
    return MailMessage(
        subject=f"Reklamation faktura {invoice.invoice_number}",
        html=body,
        to=_recipients(supplier),
        attachments=[Attachment(name=GUIDELINES_NAME, content_type="application/pdf",
                                content=invoicing_guidelines(buyer))],
    )


# --------------------------------------------------------------------------- the escalation
def _days_left(due: dt.date, today: dt.date) -> str:
    days = (due - today).days
    if days < 0:
        return "förfallen"
    return {0: "i dag", 1: "i morgon"}.get(days, f"om {days} dagar")


def compose_escalation(
    invoices: Sequence[FlaggedInvoice],
    reviewer: str,
    today: dt.date,
    *,
    within_days: int = 3,
    portal_url: str | None = None,
) -> MailMessage:
    """A notice to `reviewer` of flagged invoices due within `within_days`, soonest (then least certain) first."""
    if not invoices:
        raise ValueError("an escalation needs at least one invoice")
    ordered = sorted(invoices, key=lambda invoice: (invoice.due_date, invoice.confidence, invoice.given_number))
    count = f"{len(ordered)} flaggade fakturor" if len(ordered) > 1 else "1 flaggad faktura"
    header = ("Förfaller", "Leverantör", "Fakturanr", "Löpnr i Fortnox", "Belopp", "Konfidens")
    rows = [
        (f"{invoice.due_date.isoformat()} ({_days_left(invoice.due_date, today)})", invoice.supplier_name or "",
         invoice.invoice_number or "", invoice.given_number,
         _amount(invoice.total, invoice.currency) if invoice.total is not None else "", f"{invoice.confidence}\u00a0%")
        for invoice in ordered
    ]
    table = (
        '<table border="1" cellpadding="4" cellspacing="0">'
        + "<tr>" + "".join(f"<th>{_e(cell)}</th>" for cell in header) + "</tr>"
        + "".join("<tr>" + "".join(f"<td>{_e(cell)}</td>" for cell in row) + "</tr>" for row in rows)
        + "</table>"
    )
    link = f'<p><a href="{_e(portal_url)}">Öppna granskningen</a></p>' if portal_url else ""
    body = "".join([
        _paragraph("Hej,"),
        _paragraph(f"{count} väntar på granskning och förfaller inom {within_days} dagar. Godkänn eller neka dem "
                   "före förfallodagen, så att ingen betalning blir försenad."),
        table, link,
        _paragraph("Hälsningar", "ledgerflow"),
    ])
    return MailMessage(subject=f"{count} förfaller inom {within_days} dagar", html=body, to=[reviewer])

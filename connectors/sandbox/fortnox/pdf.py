"""A Swedish supplier invoice as a PDF, the kind that lands in a Fortnox inbox.

The AI validation reads these to find the project an invoice belongs to, so the page carries
what real builders' invoices carry: "Er referens" with the project leader's name, and then a
project, a work order or only the work-site address. Text is real text (a text layer), in
Swedish formats: ISO dates, ``1 234,56`` amounts, Bankgiro ``NNNN-NNNN``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from decimal import Decimal

import pymupdf

A4 = pymupdf.paper_rect("a4")
LEFT, RIGHT = 56.0, A4.width - 56.0
REGULAR, BOLD = "helv", "hebo"
_MUPDF = threading.Lock()  # MuPDF's context is not thread-safe, and downloads render in a thread pool


@dataclass(frozen=True)
class InvoiceLine:
    description: str
    quantity: int
    unit: str
    price: Decimal

    @property
    def amount(self) -> Decimal:
        return self.quantity * self.price


@dataclass(frozen=True)
class InvoiceDocument:
    """Everything printed on one invoice. `project_number` is the truth behind the references,
    printed or not: what the AI validation should conclude."""

    supplier_name: str
    supplier_address: tuple[str, ...]
    supplier_org_number: str
    supplier_vat_number: str
    supplier_bankgiro: str
    supplier_phone: str
    supplier_email: str
    buyer_name: str
    buyer_address: tuple[str, ...]
    buyer_vat_number: str
    invoice_number: str
    invoice_date: str
    due_date: str
    terms_days: int
    ocr: str
    your_reference: str
    references: tuple[tuple[str, str], ...]  # ("Projekt", "1313 Stender VB 1966"), ("Arbetsorder", "WW1245"), ...
    lines: tuple[InvoiceLine, ...]
    net: Decimal
    vat: Decimal
    total: Decimal
    project_number: str
    currency: str = "SEK"


def kronor(amount: Decimal) -> str:
    """``1 234,56``: space between thousands, decimal comma."""
    return f"{amount:,.2f}".replace(",", " ").replace(".", ",")


class _Writer:
    def __init__(self, page: pymupdf.Page) -> None:
        self.page = page

    def text(self, x: float, y: float, text: str, size: float = 9.5, bold: bool = False) -> None:
        self.page.insert_text((x, y), text, fontsize=size, fontname=BOLD if bold else REGULAR)

    def right(self, x: float, y: float, text: str, size: float = 9.5, bold: bool = False) -> None:
        width = pymupdf.get_text_length(text, fontname=BOLD if bold else REGULAR, fontsize=size)
        self.text(x - width, y, text, size, bold)

    def rule(self, y: float) -> None:
        self.page.draw_line((LEFT, y), (RIGHT, y), width=0.6)


def render(doc: InvoiceDocument) -> bytes:
    with _MUPDF:
        return _draw(doc)


def _draw(doc: InvoiceDocument) -> bytes:
    pdf = pymupdf.open()
    out = _Writer(pdf.new_page(width=A4.width, height=A4.height))

    out.text(LEFT, 70, doc.supplier_name, 15, bold=True)
    for i, line in enumerate(doc.supplier_address):
        out.text(LEFT, 88 + 12 * i, line)
    out.right(RIGHT, 72, "Faktura", 22, bold=True)

    y = 112
    for label, value in (
        ("Fakturanummer", doc.invoice_number),
        ("Fakturadatum", doc.invoice_date),
        ("Förfallodatum", doc.due_date),
        ("Betalningsvillkor", f"{doc.terms_days} dagar netto"),
        ("OCR-nummer", doc.ocr),
    ):
        out.text(330, y, f"{label}:", bold=True)
        out.text(440, y, value)
        y += 13

    out.text(LEFT, 150, "Fakturaadress", bold=True)
    for i, line in enumerate((doc.buyer_name, *doc.buyer_address, f"Momsreg.nr {doc.buyer_vat_number}")):
        out.text(LEFT, 163 + 12 * i, line)

    y = 235
    out.text(LEFT, y, f"Er referens: {doc.your_reference}")
    for label, value in doc.references:
        y += 13
        out.text(LEFT, y, f"{label}: {value}")

    y += 30
    columns = (
        (LEFT, "Beskrivning", False), (330, "Antal", True), (342, "Enhet", False), (445, "À-pris", True),
        (RIGHT, "Belopp", True),
    )
    for x, title, right in columns:
        (out.right if right else out.text)(x, y, title, bold=True)
    out.rule(y + 5)
    for line in doc.lines:
        y += 16
        out.text(LEFT, y, line.description)
        out.right(330, y, str(line.quantity))
        out.text(342, y, line.unit)
        out.right(445, y, kronor(line.price))
        out.right(RIGHT, y, kronor(line.amount))
    out.rule(y + 8)

    y += 26
    for label, amount, bold in (
        ("Summa exkl. moms", doc.net, False),
        ("Moms 25 %", doc.vat, False),
        ("Att betala", doc.total, True),
    ):
        out.text(330, y, label, 11 if bold else 9.5, bold)
        out.right(RIGHT, y, f"{kronor(amount)} {doc.currency}", 11 if bold else 9.5, bold)
        y += 16

    y += 24
    out.text(LEFT, y, f"Bankgiro: {doc.supplier_bankgiro}", bold=True)
    out.text(LEFT, y + 13, f"Ange OCR-nummer {doc.ocr} vid betalning.")
    out.text(LEFT, y + 26, f"Dröjsmålsränta enligt räntelagen. Betalas senast {doc.due_date}.")

    footer = 790
    out.rule(footer - 12)
    out.text(LEFT, footer, f"{doc.supplier_name}  ·  {', '.join(doc.supplier_address)}", 7.5)
    for i, parts in enumerate((
        (f"Org.nr {doc.supplier_org_number}", f"Momsreg.nr {doc.supplier_vat_number}", "Godkänd för F-skatt"),
        (f"Telefon {doc.supplier_phone}", doc.supplier_email, f"Bankgiro {doc.supplier_bankgiro}"),
    )):
        out.text(LEFT, footer + 10 * (i + 1), "  ·  ".join(parts), 7.5)

    pdf.set_metadata({"title": f"Faktura {doc.invoice_number}", "author": doc.supplier_name, "creator": "sandbox"})
    data = pdf.tobytes(garbage=3, deflate=True)
    pdf.close()
    return data

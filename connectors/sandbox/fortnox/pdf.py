"""A Swedish supplier invoice as a PDF, the kind that lands in a Fortnox inbox.

The AI validation reads these to find the project an invoice belongs to, and real suppliers do
not agree on a template, so neither do these: five layouts (`LAYOUTS`) differ the way Swedish
builders' suppliers differ, in where labels sit (beside or above their value), in their words
("Fakturanr"/"Faktura nr", "Förfallodatum"/"Att betala senast", "Er referens"/"Er ref."), in
date and amount formats (ISO or ``DD.MM.YYYY``; ``1 234,56`` with a space or no-break space,
with ``SEK``, ``kr`` or neither), in fonts, and in whether rows carry a VAT column. Long
invoices continue on further pages. Text is a real text layer, except on a scanned invoice,
whose pages are raster images of the rendered ones.

What is printed is decided elsewhere (`connectors.sandbox.invoice_corpus`); this module only
draws it, so the same document always gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

import pymupdf

from connectors import mupdf

A4 = pymupdf.paper_rect("a4")
LEFT, RIGHT = 56.0, A4.width - 56.0
ROW = 16.0  # height of a table row
ROWS_END = 762.0  # rows and totals stay above the footer
SCAN_DPI = 100

FONTS = {"helv": ("helv", "hebo"), "tiro": ("tiro", "tibo"), "cour": ("cour", "cobo")}  # regular, bold
BASE14 = {"helv": "Helvetica", "hebo": "Helvetica-Bold", "tiro": "Times-Roman", "tibo": "Times-Bold",
          "cour": "Courier", "cobo": "Courier-Bold"}
GREY = (0.4, 0.4, 0.4)


@dataclass(frozen=True)
class Layout:
    """One supplier template: where labels go, what they say and how values are written."""

    name: str
    style: Literal["side", "boxes", "sidebar"]  # label beside its value, above it in boxes, above it in a sidebar
    font: str  # a key of FONTS
    title: str
    number: str
    date: str
    due: str
    terms: str
    ocr: str
    your_reference: str
    our_reference: str
    net: str
    vat: str  # formatted with the rate: "Moms {rate} %"
    total: str
    org_number: str
    vat_number: str
    date_format: str = "%Y-%m-%d"
    thousands: str = " "
    suffix: str = " SEK"  # after amounts in the totals
    vat_column: bool = False  # rows show their VAT rate, so one invoice can mix rates
    accent: tuple[float, float, float] = (0.0, 0.0, 0.0)


LAYOUTS = {layout.name: layout for layout in (
    Layout("classic", "side", "helv", "Faktura", "Fakturanummer", "Fakturadatum", "Förfallodatum",
           "Betalningsvillkor", "OCR-nummer", "Er referens", "Vår referens", "Summa exkl. moms", "Moms {rate} %",
           "Att betala", "Org.nr", "Momsreg.nr"),
    Layout("dotted", "side", "tiro", "FAKTURA", "Faktura nr", "Datum", "Att betala senast", "Villkor", "OCR",
           "Er ref.", "Vår ref.", "Exkl. moms", "Moms {rate}%", "Totalt att betala", "Organisationsnummer", "VAT-nr",
           date_format="%d.%m.%Y", thousands="\u00a0", suffix=" kr", vat_column=True),
    Layout("mono", "side", "cour", "FAKTURA", "Fakturanr", "Fakturadatum", "Förfallodag", "Betalningsvillkor",
           "OCR", "Referens", "Vår referens", "Netto", "Moms {rate} %", "Att betala SEK", "Org.nr", "Momsreg.nr",
           suffix="", vat_column=True),
    Layout("boxed", "boxes", "helv", "Faktura", "Fakturanr", "Fakturadatum", "Förfallodag", "Betalningsvillkor",
           "OCR-nummer", "Er referens", "Vår referens", "Belopp exkl. moms", "Moms {rate} %", "Att betala",
           "Org.nr", "Momsregistreringsnummer", thousands="\u00a0", vat_column=True, accent=(0.05, 0.25, 0.5)),
    Layout("sidebar", "sidebar", "helv", "Faktura", "Fakturanummer", "Datum", "Förfallodatum", "Villkor", "OCR",
           "Referens", "Vår referens", "Summa exkl. moms", "Moms {rate} %", "Att betala", "Org.nr", "VAT-nr",
           suffix=" kr", accent=(0.55, 0.1, 0.1)),
)}


@dataclass(frozen=True)
class InvoiceLine:
    description: str
    quantity: int
    unit: str
    price: Decimal
    vat_rate: int = 25
    section: str = ""  # a heading printed above the first row of a group, e.g. "Märkning: 1313 Stender VB 1966"

    @property
    def amount(self) -> Decimal:
        return self.quantity * self.price


@dataclass(frozen=True)
class VatRow:
    """One printed VAT line: the rate, the net it applies to and the VAT charged."""

    rate: int
    base: Decimal
    vat: Decimal


@dataclass(frozen=True)
class InvoiceDocument:
    """Everything printed on one invoice. `project_number` is the truth behind the references,
    printed or not: what the AI validation should conclude (None: nothing on it says)."""

    supplier_name: str
    supplier_address: tuple[str, ...]
    supplier_org_number: str
    supplier_vat_number: str
    supplier_bankgiro: str  # "" when the supplier is paid by Plusgiro
    supplier_phone: str
    supplier_email: str
    buyer_name: str
    buyer_address: tuple[str, ...]
    buyer_vat_number: str
    invoice_number: str
    invoice_date: dt.date
    due_date: dt.date
    terms_days: int
    ocr: str
    your_reference: str  # "" when not printed
    references: tuple[tuple[str, str], ...]  # ("Projekt", "1313 Stender VB 1966"), ("AO", "WW1245"), ...
    lines: tuple[InvoiceLine, ...]
    net: Decimal
    vat: Decimal
    total: Decimal
    project_number: str | None
    layout: str = "classic"
    supplier_plusgiro: str = ""
    our_reference: str = ""
    vat_rows: tuple[VatRow, ...] = ()  # none: one line of `vat` at 25 % on `net`
    reverse_charge: bool = False
    scanned: bool = False  # the pages are images of the invoice, without a text layer
    min_pages: int = 0  # delivery notes (följesedlar) follow the invoice until the file has this many pages
    currency: str = "SEK"

    @property
    def printed_vat_rows(self) -> tuple[VatRow, ...]:
        return self.vat_rows or (VatRow(25, self.net, self.vat),)


def kronor(amount: Decimal, thousands: str = " ") -> str:
    """``1 234,56``: a space (or `thousands`) between thousands, decimal comma."""
    return f"{amount:,.2f}".replace(",", thousands).replace(".", ",")


@functools.cache
def _widths(font: str) -> dict[str, float]:
    """Advance widths at size 1 of the characters WinAnsi encodes: asking MuPDF per string costs 0.2 ms."""
    chars = bytes(range(32, 256)).decode("cp1252", errors="ignore")
    return {char: pymupdf.get_text_length(char, fontname=font, fontsize=1) for char in chars}


def _fonts(pdf: pymupdf.Document, layout: Layout) -> dict[str, int]:
    """The layout's two base-14 fonts as font objects of `pdf`, WinAnsi-encoded as `insert_text` makes
    them; written directly because `Page.insert_font` measures every glyph again (4 ms a page)."""
    fonts = {}
    for name in FONTS[layout.font]:
        fonts[name] = xref = pdf.get_new_xref()
        pdf.update_object(xref, f"<</Type/Font/Subtype/Type1/BaseFont/{BASE14[name]}/Encoding/WinAnsiEncoding>>")
    return fonts


class _Canvas:
    """One page's drawing, collected as content-stream operators and written once.

    `Page.insert_text` rewrites the page's content stream on every call, about half a millisecond
    each and growing with the page, so an invoice took ~30 ms; with one stream per page and the
    fonts written once per document (`_fonts`) it takes ~1.5 ms, which the accuracy benchmark's
    hundreds of invoices need. The fonts are base-14 with WinAnsi encoding, as `insert_text` makes
    them, so the text layer reads back the same.
    """

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.regular, self.bold = FONTS[layout.font]
        self.ops: list[bytes] = []

    def width(self, text: str, size: float = 9.5, bold: bool = False) -> float:
        widths = _widths(self.bold if bold else self.regular)
        return size * sum(widths[char] for char in text)

    def text(self, x: float, y: float, text: str, size: float = 9.5, bold: bool = False,
             color: tuple[float, float, float] = (0.0, 0.0, 0.0)) -> None:
        escaped = text.encode("cp1252").replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
        font = (self.bold if bold else self.regular).encode()
        self.ops.append(b"BT %.3f %.3f %.3f rg /%s %.2f Tf 1 0 0 1 %.2f %.2f Tm (%s) Tj ET"
                        % (*color, font, size, x, A4.height - y, escaped))

    def right(self, x: float, y: float, text: str, size: float = 9.5, bold: bool = False,
              color: tuple[float, float, float] = (0.0, 0.0, 0.0)) -> None:
        self.text(x - self.width(text, size, bold), y, text, size, bold, color)

    def label(self, x: float, y: float, text: str) -> None:
        """A small grey label above its value."""
        self.text(x, y, text, 7, color=GREY)

    def rule(self, y: float, x0: float = LEFT, x1: float = RIGHT, width: float = 0.6) -> None:
        self.ops.append(b"%.2f w 0 0 0 RG %.2f %.2f m %.2f %.2f l S" % (width, x0, A4.height - y, x1, A4.height - y))

    def box(self, x0: float, y0: float, x1: float, y1: float, fill: tuple[float, float, float] | None = None) -> None:
        rect = b"%.2f %.2f %.2f %.2f re" % (x0, A4.height - y1, x1 - x0, y1 - y0)
        if fill is None:
            self.ops.append(b"0.5 w %.3f %.3f %.3f RG %s S" % (*self.layout.accent, rect))
        else:
            self.ops.append(b"%.3f %.3f %.3f rg %s f" % (*fill, rect))

    def page(self, pdf: pymupdf.Document, fonts: dict[str, int]) -> None:
        """Adds the page to `pdf`, its fonts being the document's font objects `fonts` (name -> xref)."""
        page = pdf.new_page(width=A4.width, height=A4.height)
        pdf.xref_set_key(page.xref, "Resources", "<</Font<<%s>>>>" % "".join(
            f"/{name} {xref} 0 R" for name, xref in fonts.items()))
        xref = pdf.get_new_xref()
        pdf.update_object(xref, "<<>>")
        pdf.update_stream(xref, b"\n".join(self.ops))
        page.set_contents(xref)


def _date(layout: Layout, date: dt.date) -> str:
    return date.strftime(layout.date_format)


def _meta(doc: InvoiceDocument, layout: Layout) -> list[tuple[str, str]]:
    return [
        (layout.number, doc.invoice_number),
        (layout.date, _date(layout, doc.invoice_date)),
        (layout.due, _date(layout, doc.due_date)),
        (layout.terms, f"{doc.terms_days} dagar netto"),
        (layout.ocr, doc.ocr),
    ]


def _people_and_references(doc: InvoiceDocument, layout: Layout) -> list[tuple[str, str]]:
    people = [(layout.your_reference, doc.your_reference), (layout.our_reference, doc.our_reference)]
    return [(label, value) for label, value in people if value] + list(doc.references)


def _buyer(c: _Canvas, doc: InvoiceDocument, x: float, y: float) -> float:
    c.text(x, y, "Fakturaadress", bold=True)
    for line in (doc.buyer_name, *doc.buyer_address, f"Momsreg.nr {doc.buyer_vat_number}"):
        y += 12
        c.text(x, y, line)
    return y


def _supplier_head(c: _Canvas, doc: InvoiceDocument, room: float = 360) -> None:
    """The supplier's name, shrunk to fit `room` points, and address."""
    size = min(15.0, 15 * room / c.width(doc.supplier_name, 15, bold=True))
    c.text(LEFT, 70, doc.supplier_name, size, bold=True)
    for i, line in enumerate(doc.supplier_address):
        c.text(LEFT, 88 + 12 * i, line)


def _side_header(c: _Canvas, doc: InvoiceDocument, layout: Layout) -> float:
    """Labels beside their values: "Fakturanummer: 10234"."""
    _supplier_head(c, doc)
    c.right(RIGHT, 72, layout.title, 22, bold=True)
    meta = _meta(doc, layout)
    values_x = max(440, 340 + max(c.width(f"{label}:", bold=True) for label, _ in meta))
    y = 112.0
    for label, value in meta:
        c.text(330, y, f"{label}:", bold=True)
        c.text(values_x, y, value)
        y += 13
    _buyer(c, doc, LEFT, 150)
    y = 235
    for label, value in _people_and_references(doc, layout):
        c.text(LEFT, y, f"{label}: {value}")
        y += 13
    return y + 17


def _boxes_header(c: _Canvas, doc: InvoiceDocument, layout: Layout) -> float:
    """Labels above their values, in a row of boxes and a column of references."""
    _supplier_head(c, doc)
    c.right(RIGHT, 72, layout.title, 24, bold=True)
    meta = _meta(doc, layout)
    width = (RIGHT - LEFT) / len(meta)
    for i, (label, value) in enumerate(meta):
        x = LEFT + i * width
        c.box(x, 104, x + width, 134)
        c.label(x + 5, 113, label)
        c.text(x + 5, 128, value, 10)
    buyer_end = _buyer(c, doc, LEFT, 160)
    y = 160.0
    for label, value in _people_and_references(doc, layout):
        c.label(330, y, label)
        c.text(330, y + 11, value)
        y += 25
    return max(y, buyer_end + 25) + 12


def _sidebar_header(c: _Canvas, doc: InvoiceDocument, layout: Layout) -> float:
    """A shaded column at the right with every label above its value."""
    items = _meta(doc, layout) + _people_and_references(doc, layout)
    end = 96 + 23 * len(items)
    c.box(372, 36, RIGHT, end, fill=(0.93, 0.93, 0.93))
    c.text(382, 66, layout.title, 20, bold=True, color=layout.accent)
    y = 90.0
    for label, value in items:
        c.label(382, y, label)
        c.text(382, y + 11, value)
        y += 23
    _supplier_head(c, doc, room=372 - LEFT - 12)
    buyer_end = _buyer(c, doc, LEFT, 150)
    return max(end, buyer_end) + 30


HEADERS: dict[str, Callable[[_Canvas, InvoiceDocument, Layout], float]] = {
    "side": _side_header, "boxes": _boxes_header, "sidebar": _sidebar_header,
}


def _continued_header(c: _Canvas, doc: InvoiceDocument, layout: Layout) -> float:
    c.text(LEFT, 70, doc.supplier_name, 13, bold=True)
    c.right(RIGHT, 70, f"{layout.number}: {doc.invoice_number}", bold=True)
    c.text(LEFT, 86, "Fortsättning", color=GREY)
    return 120.0


def _columns(layout: Layout) -> tuple[tuple[float, str, bool], ...]:
    """(x, title, right-aligned) of the row table."""
    if layout.vat_column:
        return ((LEFT, "Beskrivning", False), (305, "Antal", True), (312, "Enhet", False), (400, "À-pris", True),
                (450, "Moms", True), (RIGHT, "Belopp", True))
    return ((LEFT, "Beskrivning", False), (330, "Antal", True), (342, "Enhet", False), (445, "À-pris", True),
            (RIGHT, "Belopp", True))


Entry = InvoiceLine | str  # a row, or a section heading


def _entries(lines: Iterable[InvoiceLine]) -> list[Entry]:
    entries: list[Entry] = []
    section = ""
    for line in lines:
        if line.section and line.section != section:
            entries.append(line.section)
        section = line.section
        entries.append(line)
    return entries


def _table(c: _Canvas, layout: Layout, entries: list[Entry], y: float) -> float:
    columns = _columns(layout)
    for x, title, right in columns:
        (c.right if right else c.text)(x, y, title, bold=True)
    c.rule(y + 5)
    for entry in entries:
        y += ROW
        if isinstance(entry, str):
            c.text(LEFT, y, entry, bold=True)
            continue
        values = [entry.description, str(entry.quantity), entry.unit, kronor(entry.price, layout.thousands)]
        if layout.vat_column:
            values.append(f"{entry.vat_rate} %")
        values.append(kronor(entry.amount, layout.thousands))
        for (x, _, right), value in zip(columns, values, strict=True):
            (c.right if right else c.text)(x, y, value)
    c.rule(y + 8)
    return y


def _tail_height(doc: InvoiceDocument) -> float:
    """Room the totals and payment lines need below the rows."""
    return 26 + ROW * (2 + len(doc.printed_vat_rows)) + (30 if doc.reverse_charge else 0) + 24 + 39


def _totals(c: _Canvas, doc: InvoiceDocument, layout: Layout, y: float) -> None:
    y += 26
    rows = [(layout.net, doc.net, False)]
    for row in doc.printed_vat_rows:
        label = layout.vat.format(rate=row.rate)
        if len(doc.printed_vat_rows) > 1:
            label += f" på {kronor(row.base, layout.thousands)}"
        rows.append((label, row.vat, False))
    rows.append((layout.total, doc.total, True))
    for label, amount, bold in rows:
        size = 11 if bold else 9.5
        c.text(330, y, label, size, bold)
        c.right(RIGHT, y, f"{kronor(amount, layout.thousands)}{layout.suffix}", size, bold)
        y += ROW
    if doc.reverse_charge:
        c.text(LEFT, y + 4, "Omvänd betalningsskyldighet för byggtjänster gäller.", bold=True)
        c.text(LEFT, y + 17, f"Köparens momsreg.nr: {doc.buyer_vat_number}")
        y += 30
    y += 24
    giro = f"Bankgiro: {doc.supplier_bankgiro}" if doc.supplier_bankgiro else f"Plusgiro: {doc.supplier_plusgiro}"
    c.text(LEFT, y, giro, bold=True)
    c.text(LEFT, y + 13, f"Ange OCR-nummer {doc.ocr} vid betalning.")
    c.text(LEFT, y + 26, f"Dröjsmålsränta enligt räntelagen. Betalas senast {_date(layout, doc.due_date)}.")


def _footer(c: _Canvas, doc: InvoiceDocument, layout: Layout, page: int, pages: int) -> None:
    footer = 790
    c.rule(footer - 12)
    giro = f"Bankgiro {doc.supplier_bankgiro}" if doc.supplier_bankgiro else f"Plusgiro {doc.supplier_plusgiro}"
    for i, parts in enumerate((
        (doc.supplier_name, ", ".join(doc.supplier_address)),
        (f"{layout.org_number} {doc.supplier_org_number}", f"{layout.vat_number} {doc.supplier_vat_number}",
         "Godkänd för F-skatt"),
        (f"Telefon {doc.supplier_phone}", doc.supplier_email, giro),
    )):
        c.text(LEFT, footer + 10 * i, "  ·  ".join(parts), 7.5)
    if pages > 1:
        c.right(RIGHT, footer, f"Sida {page} ({pages})", 7.5)


def _paginate(doc: InvoiceDocument, layout: Layout, first_top: float) -> list[list[Entry]]:
    """Rows split over pages; the totals go on a page of their own when the last rows leave no room."""
    pages: list[list[Entry]] = [[]]
    y = first_top
    for entry in _entries(doc.lines):
        if y + ROW > ROWS_END - 8:
            pages.append([])
            y = _continued_header(_Canvas(layout), doc, layout)
        pages[-1].append(entry)
        y += ROW
    if y + _tail_height(doc) > ROWS_END:
        pages.append([])
    return pages


def _delivery_notes(pdf: pymupdf.Document, fonts: dict[str, int], doc: InvoiceDocument, layout: Layout) -> None:
    for number in range(1, doc.min_pages - pdf.page_count + 1):
        c = _Canvas(layout)
        c.text(LEFT, 70, f"Bilaga {number}: följesedel {doc.invoice_number}-{number:03d}", 13, bold=True)
        c.text(LEFT, 90, f"Levererat till {doc.buyer_name} enligt beställning.")
        c.page(pdf, fonts)


def _draw(doc: InvoiceDocument) -> pymupdf.Document:
    layout = LAYOUTS[doc.layout]
    header = HEADERS[layout.style]
    pages = _paginate(doc, layout, header(_Canvas(layout), doc, layout))
    pdf = pymupdf.open()
    fonts = _fonts(pdf, layout)
    for number, entries in enumerate(pages, start=1):
        c = _Canvas(layout)
        y = (header if number == 1 else _continued_header)(c, doc, layout)
        if entries or number == 1:
            y = _table(c, layout, entries, y)
        if number == len(pages):
            _totals(c, doc, layout, y)
        else:
            c.right(RIGHT, y + 24, "Fortsättning på nästa sida", 8, color=GREY)
        _footer(c, doc, layout, number, len(pages))
        c.page(pdf, fonts)
    _delivery_notes(pdf, fonts, doc, layout)
    return pdf


def _scan(pdf: pymupdf.Document) -> pymupdf.Document:
    """The invoice as a scanner returns it: each page one greyscale image, no text layer."""
    scanned = pymupdf.open()
    for page in pdf:
        image = page.get_pixmap(dpi=SCAN_DPI, colorspace=pymupdf.csGRAY)
        scanned.new_page(width=page.rect.width, height=page.rect.height).insert_image(page.rect, pixmap=image)
    scanned.set_metadata({"creator": "Skanner"})
    return scanned


def render(doc: InvoiceDocument) -> bytes:
    with mupdf.LOCK:
        pdf = _draw(doc)
        if doc.scanned:
            pdf = _scan(pdf)
        else:
            pdf.set_metadata({"title": f"Faktura {doc.invoice_number}", "author": doc.supplier_name,
                              "creator": "sandbox"})
        data = pdf.tobytes(garbage=3, deflate=True, no_new_id=True)  # no random /ID: same document, same bytes
        pdf.close()
        return data


def encrypt(data: bytes, password: str) -> bytes:
    """`data` protected with AES-256: it opens only with `password`."""
    with mupdf.LOCK:
        pdf = pymupdf.open(stream=data, filetype="pdf")
        locked = pdf.tobytes(encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw=password, owner_pw=password + "-ägare")
        pdf.close()
        return locked

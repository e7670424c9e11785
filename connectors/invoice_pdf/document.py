"""Opening the PDF, taking its words with their positions, and saying why when that fails.

Whatever arrives from a supplier's inbox is read without raising: an encrypted, damaged,
empty, oversized or scanned PDF becomes a `DocumentProblem` with a Swedish message for the
reviewer, and the run goes on with the next invoice. Only the visible text layer is read,
never files embedded in the PDF: a ZUGFeRD/Factur-X attachment can disagree with the page
(the reference corpus has two such invoices), and the page is what the supplier invoiced.

Scanned pages (images without a text layer) are reported, not read: OCR of scans is out of
scope here, and such invoices go to the Claude reader or to a person.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import pymupdf

from connectors import mupdf
from connectors.invoice_pdf.layout import Word
from models.invoice_review import DocumentProblem, DocumentProblemCode

# MuPDF's context is not thread-safe (see connectors/sandbox/fortnox/pdf.py); the lock is held
# only while MuPDF runs, the field rules run outside it.
# What MuPDF raises on damaged input: its own errors (FzErrorFormat for a broken page tree, …),
# and RuntimeError/ValueError from the PyMuPDF layer (FileDataError, EmptyFileError).
_MUPDF_ERRORS = (pymupdf.mupdf.FzErrorBase, RuntimeError, ValueError)

MESSAGES: dict[DocumentProblemCode, str] = {
    "no_document": "Fakturan har ingen PDF att läsa (filen är tom).",
    "encrypted": "PDF:en är lösenordsskyddad och kan inte läsas.",
    "corrupt": "PDF:en är skadad eller är inte en PDF och kan inte läsas.",
    "no_pages": "PDF:en har inga sidor.",
    "too_many_pages": "PDF:en har {pages} sidor, fler än en faktura brukar ha; bara de första {read} lästes.",
    "image_only": "{which} utan text och kan inte läsas automatiskt (ingen OCR); granska fakturan manuellt.",
    "no_text": "PDF:en innehåller ingen läsbar text.",
}


@dataclass
class PdfText:
    """The words of the pages that were read, and what kept the rest from being read."""

    sha256: str
    pages: int = 0
    words: list[list[Word]] = field(default_factory=list)
    sizes: list[tuple[float, float]] = field(default_factory=list)  # (width, height) of each page read
    problems: list[DocumentProblem] = field(default_factory=list)

    def problem(self, code: DocumentProblemCode, **values: object) -> None:
        self.problems.append(DocumentProblem(code=code, message=MESSAGES[code].format(**values)))


def read_text(data: bytes, max_pages: int) -> PdfText:
    """The positioned words of at most `max_pages` pages of `data`; never raises on bad input.

    A PDF longer than `max_pages` is read up to that page and flagged "too_many_pages": the
    first pages of a mis-sent batch still show the reviewer what it is.
    """
    result = PdfText(sha256=hashlib.sha256(data).hexdigest())
    if not data:
        result.problem("no_document")
        return result
    with mupdf.LOCK:
        try:
            with pymupdf.open(stream=data, filetype="pdf") as document:
                _read_pages(document, max_pages, result)
        except _MUPDF_ERRORS:  # unreadable as a whole: no page tree, no cross-reference table, not a PDF
            result.words.clear()
            result.sizes.clear()
            result.problems = [p for p in result.problems if p.code == "too_many_pages"]
            result.problem("corrupt")
    return result


def _read_pages(document: pymupdf.Document, max_pages: int, result: PdfText) -> None:
    result.pages = document.page_count
    if document.needs_pass:
        result.problem("encrypted")
        return
    if result.pages == 0:
        result.problem("no_pages")
        return
    if result.pages > max_pages:
        result.problem("too_many_pages", pages=result.pages, read=max_pages)
    scanned: list[int] = []
    damaged = False
    for number in range(min(result.pages, max_pages)):
        words: list[Word] = []
        size = (pymupdf.paper_rect("a4").width, pymupdf.paper_rect("a4").height)
        try:
            page = document.load_page(number)
            size = (page.rect.width, page.rect.height)
            words = [w[:5] for w in page.get_text("words")]
            if not words and page.get_image_info():
                scanned.append(number + 1)
        except _MUPDF_ERRORS:  # a damaged page: the others may still be fine
            damaged = True
        result.words.append(words)
        result.sizes.append(size)
    if damaged:
        result.problem("corrupt")
    if scanned:
        which = (f"Sida {scanned[0]} är en inskannad bild" if len(scanned) == 1
                 else f"Sidorna {', '.join(map(str, scanned))} är inskannade bilder")
        result.problem("image_only", which=which)
    elif not any(result.words):
        result.problem("no_text")

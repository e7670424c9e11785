"""PDF bytes in, `Extraction` out: the rule-based reader of supplier invoices (method "rules").

The steps are cheap and in order: words with positions (document.py), lines and cells
(layout.py), then the field rules. A typical one-page invoice takes a few milliseconds,
so the reader never limits the validation flow (benchmarks/invoice_fields.py).
"""

from __future__ import annotations

from connectors.invoice_pdf import labels
from connectors.invoice_pdf.document import read_text
from connectors.invoice_pdf.fields import FieldReader
from connectors.invoice_pdf.hints import project_hints
from connectors.invoice_pdf.layout import Layout
from connectors.invoice_pdf.parties import read_parties
from connectors.invoice_pdf.rows import read_rows
from models.invoice_review import ExtractedFields, Extraction

MAX_PAGES = 50


def read_invoice(data: bytes, *, max_pages: int = MAX_PAGES) -> Extraction:
    """Read the fields of the supplier invoice in `data`. Never raises on bad input: what kept
    the document (or some pages) from being read is in `problems`, and fields it could not
    find are None."""
    text = read_text(data, max_pages)
    fields = ExtractedFields()
    if any(text.words):
        fields = _fields(Layout(text.words, text.sizes))
    return Extraction(sha256=text.sha256, pages=text.pages, method="rules", fields=fields, problems=text.problems)


def _fields(layout: Layout) -> ExtractedFields:
    reader = FieldReader(layout)
    parties = read_parties(layout)
    number = reader.invoice_number()
    total = reader.total()
    net = reader.net()
    vat_lines = reader.vat_lines(net)
    reference = reader.reference(labels.REFERENCE)
    our_reference = reader.reference(labels.OUR_REFERENCE)
    delivery = (parties.delivery_address, parties.delivery_label) if parties.delivery_address else None
    return ExtractedFields(
        invoice_number=number[0] if number else None,
        invoice_date=reader.invoice_date(number),
        due_date=reader.due_date(),
        total=total[0] if total else None,
        net=net,
        vat_amount=reader.vat_amount(vat_lines),
        vat_lines=vat_lines,
        currency=reader.currency(total),
        **reader.supplier_ids(parties.buyer_cells),
        supplier_name=parties.supplier_name,
        buyer_name=parties.buyer_name,
        buyer_org_nr=parties.buyer_org_nr,
        invoice_address=parties.invoice_address,
        delivery_address=parties.delivery_address,
        reference=reference[0] if reference else None,
        our_reference=our_reference[0] if our_reference else None,
        reverse_charge=reader.reverse_charge(),
        lines=read_rows(layout),
        project_hints=project_hints(layout, reference, delivery),
    )

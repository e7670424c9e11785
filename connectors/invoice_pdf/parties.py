"""Who invoices whom, and where the goods went: supplier name, buyer block, delivery address.

The buyer's block is found by its label ("Fakturaadress", "Bill to", "Factuuradres") or, on
a letter-style invoice without one, as the addressee block (a short block ending in a postal
code line, in the upper part of the first page, that is not the supplier's letterhead).
Its cells are remembered so that the buyer's own VAT and organisation numbers printed there
are never taken for the supplier's.

The supplier is named in a seller section ("Verkäufer", "Service Provider") when the form
has one; otherwise it is the first company name (one with a legal form: AB, GmbH, B.V., …)
at the top of the first page, or failing that the first letterhead block there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from connectors.invoice_pdf import identifiers, labels
from connectors.invoice_pdf.layout import Cell, Layout, Match, Placed, is_label

_LEGAL_FORM = re.compile(
    r"(?<![\w.])(?:AB|Aktiebolag|HB|KB|Handelsbolag|Kommanditbolag|Ek\. ?för\.?|\(publ\)|GmbH|AG|B\.V\.|BV|N\.V\.|"
    r"SARL|SAS|S\.A\.|SA|Ltd\.?|Limited|Inc\.?|LLC|Oy|Oyj|A/S|ApS|AS|ASA|plc|KG|e\.K\.)(?![\w/])"
)
_PARTS = re.compile(r"\s+[|·●•–-]\s+|\s*[|·●•]\s*")
_POSTAL = re.compile(
    r"(?:^|\s)(?:[A-Z]{1,2}-\s?)?(?:\d{3} ?\d{2}|\d{4,5}|\d{4} ?[A-Z]{2})\s+[A-ZÅÄÖÜ][\w\-]+|\b[A-Z]{2} \d{5}\b"
)
_CONTACT = re.compile(r"@|https?:|www\.|\b(?:tel|telefon|phone|fax|mobil)\b", re.IGNORECASE)
_ADDRESS_LABEL = re.compile(r"(?i)(?:adress|address|adresse|anschrift|adres)\b")
_TOP = 0.3  # the letterhead and the addressee sit in the upper third of page 1
_MAX_NAME = 80


@dataclass
class Parties:
    supplier_name: str | None = None
    buyer_name: str | None = None
    buyer_org_nr: str | None = None
    invoice_address: list[str] = field(default_factory=list)
    delivery_address: str | None = None
    delivery_label: str | None = None
    buyer_cells: set[Cell] = field(default_factory=set)  # printed as the buyer's: not the supplier's ids
    delivery_cells: set[Cell] = field(default_factory=set)


def read_parties(layout: Layout) -> Parties:
    parties = Parties()
    _fill_delivery(parties, layout)
    labelled = _labelled_buyer_block(layout)
    if labelled is not None:
        label, block = labelled
        parties.buyer_cells.add(label.cell)
        _fill_buyer(parties, block, label.rest or None)
    supplier = _supplier(layout, parties.buyer_cells | parties.delivery_cells)
    if supplier is not None:
        parties.supplier_name = supplier[0]
    if labelled is None:
        block = _addressee_block(layout, parties.delivery_cells | ({supplier[1]} if supplier else set()),
                                 supplier[1] if supplier and supplier[1].text == supplier[0] else None)
        if block:
            _fill_buyer(parties, block)
    return parties


def _labelled_buyer_block(layout: Layout) -> tuple[Match, list[Placed]] | None:
    for tier in labels.BUYER_BLOCK:
        for match in layout.find(tier):
            after = _after(layout, match)
            if match.rest or after:
                return match, after
    return None


def _after(layout: Layout, match: Match) -> list[Placed]:
    """The rest of the block a label heads."""
    block = layout.block(match.cell)
    return list(block[block.index((match.line, match.cell)) + 1:])


def _fill_buyer(parties: Parties, block: list[Placed], first: str | None = None) -> None:
    """Name, address lines and org.nr from the buyer's block (`first`: printed beside its label);
    contact lines and VAT ids are not address."""
    lines = [first] if first else []
    for line, cell in block:
        parties.buyer_cells.add(cell)
        right = line.after(cell)
        if is_label(cell.text) and right is not None:
            parties.buyer_cells.add(right)
            if labels.NAME.match(cell.text):
                parties.buyer_name = right.text
            elif _ADDRESS_LABEL.match(cell.text):
                lines.append(right.text)
            continue
        lines.append(cell.text)
    for text in lines:
        org_number = identifiers.org_number(text)
        if org_number:
            parties.buyer_org_nr = org_number
        elif not (identifiers.vat_numbers(text) or _CONTACT.search(text) or is_label(text)):
            if parties.buyer_name is None:
                parties.buyer_name = text
            else:
                parties.invoice_address.append(text)


def _supplier(layout: Layout, buyer: set[Cell]) -> tuple[str, Cell] | None:
    return _seller_section(layout) or _company_at_top(layout, buyer) or _letterhead(layout, buyer)


def _seller_section(layout: Layout) -> tuple[str, Cell] | None:
    """"Verkäufer … Name: Lieferant GmbH" or "Service Provider: (…) Amazon Web Services, Inc."."""
    for tier in labels.SELLER_BLOCK:
        for match in layout.find(tier):
            if match.rest:
                return match.rest, match.cell
            named = _name_below(layout, match)
            if named:
                return named
            for _, cell in _after(layout, match):
                if not is_label(cell.text) and not cell.text.startswith("("):
                    return cell.text, cell
    return None


def _name_below(layout: Layout, match: Match) -> tuple[str, Cell] | None:
    for line in layout.lines[match.line.index + 1: match.line.index + 7]:
        for cell in line.cells:
            right = line.after(cell)
            if right is not None and labels.NAME.fullmatch(cell.text.rstrip(":")) and is_label(cell.text):
                return right.text, right
    return None


def _top_cells(layout: Layout, buyer: set[Cell]) -> list[Placed]:
    limit = _TOP * layout.sizes[0][1]
    return [(line, cell) for line in layout.lines if line.page == 0 and line.y0 < limit
            for cell in line.cells if cell not in buyer]


def _company_at_top(layout: Layout, buyer: set[Cell]) -> tuple[str, Cell] | None:
    for _, cell in _top_cells(layout, buyer):
        for part in _PARTS.split(cell.text):
            part = part.strip(" ,")
            if _LEGAL_FORM.search(part) and len(part) <= _MAX_NAME and ":" not in part and not _CONTACT.search(part):
                return part, cell
    return None


def _letterhead(layout: Layout, buyer: set[Cell]) -> tuple[str, Cell] | None:
    """The first block of three or more lines at the top left whose later lines carry a postal code.

    Top right is where a window envelope shows the addressee, so a block there is not taken.
    """
    top = {cell for _, cell in _top_cells(layout, buyer) if cell.x0 < layout.sizes[0][0] / 2}
    for block in layout.blocks():
        if block[0][1] in top and len(block) >= 3 and any(_POSTAL.search(c.text) for _, c in block[1:]):
            name = block[0][1]
            if not is_label(name.text) and not _CONTACT.search(name.text):
                return name.text, name
    return None


def _addressee_block(layout: Layout, taken: set[Cell], heading: Cell | None) -> list[Placed]:
    """A window-envelope address without a label: a short block up to its postal code line that is
    not taken and does not sit just under the supplier's name `heading` (its letterhead). A
    one-line sender ("Acme GmbH | Europa-Allee 1980 | …") is no heading: the addressee follows it."""
    top = {cell for _, cell in _top_cells(layout, set())}
    for block in layout.blocks():
        first = block[0][1]
        if first not in top or any(c in taken for _, c in block):
            continue
        if heading is not None and abs(first.x0 - heading.x0) < 6 and 0 <= first.y0 - heading.y1 < 3 * heading.height:
            continue
        for end, (_, cell) in enumerate(block):
            if is_label(cell.text) or ":" in cell.text:
                break
            if end >= 1 and _POSTAL.search(cell.text):
                return list(block[: end + 1])
    return []


def _fill_delivery(parties: Parties, layout: Layout) -> None:
    for tier in labels.DELIVERY:
        for match in layout.find(tier):
            right = match.line.after(match.cell)
            cells = [match.cell]
            if match.rest:
                value = match.rest
            elif right is not None and not is_label(right.text):
                value = right.text
                cells.append(right)
            else:
                cells += [c for _, c in _after(layout, match) if c.text[:1].isalnum() and not _CONTACT.search(c.text)]
                value = ", ".join(c.text for c in cells[1:])
            if value:
                parties.delivery_address, parties.delivery_label = value, match.label
                parties.delivery_cells.update(cells)
                return

"""Invoice rows, read as a table under its header line.

A header line names the description and amount columns ("Beskrivning … Belopp",
"Description … Amount", "Bezeichnung … Gesamt/€"); every following line whose cell under
the amount column is an amount is a row, and each cell belongs to the header column it
overlaps most. Lines without an amount (wrapped descriptions, serial numbers, notes) are
not rows; the table ends at the totals ("Summa exkl. moms", "Subtotal") or at a wide gap.
The description is the row's first line as printed, so it can be compared exactly.
"""

from __future__ import annotations

import re
from decimal import Decimal

from connectors.invoice_pdf import labels
from connectors.invoice_pdf.amounts import money, number
from connectors.invoice_pdf.layout import Cell, Layout, Line
from models.invoice_review import ExtractedLine

_SUFFIX = r"(?:\s*[/(]?\s*(?:€|\$|SEK|EUR|USD|kr)\)?)?\s*:?"


def _header(*names: str) -> re.Pattern[str]:
    return re.compile(rf"(?:{'|'.join(names)}){_SUFFIX}", re.IGNORECASE)


# Description headers, best first: "Artikel" is a description only where nothing better is printed.
_DESCRIPTION = (
    _header(r"beskrivning", r"benämning", r"specifikation", r"description", r"bezeichnung", r"beschreibung",
            r"désignation", r"omschrijving", r"product", r"produkt"),
    _header(r"artikel", r"item", r"text", r"vara", r"tjänst"),
)
_COLUMNS = {
    # "Antal Enhet" may print as one cell when the columns nearly touch; its values then read "10 m²".
    "quantity": _header(r"(?:antal|kvantitet|mängd|qty|quantity|menge|anzahl|quantité|nombre|aantal|hoeveelheid)"
                        r"(?:\s+(?:enhet|unit|einheit))?"),
    "unit": _header(r"enhet", r"unit", r"einheit", r"unité", r"eenheid"),
    "unit_price": _header(r"à-?pris", r"a-?pris", r"styckpris", r"pris", r"unit price", r"price", r"rate",
                          r"einzelpreis", r"einzel", r"e-preis", r"preis", r"vk-preis", r"prix unitaire",
                          r"p\.u\.(?: ht)?", r"prijs(?: per stuk)?", r"nettopreis"),
    "amount": _header(r"belopp", r"summa", r"totalt", r"amount", r"total", r"line total", r"betrag", r"gesamt",
                      r"gesamtpreis", r"gesamtbetrag", r"zeilenbetrag", r"nettobetrag", r"montant(?: ht)?",
                      r"prix ht", r"bedrag", r"totaal", r"(?:btw )?prijs incl\.? btw"),
}
_QUANTITY = re.compile(r"(?P<number>-?\d[\d\s.,]*)\s*(?P<unit>[^\d\s][^\s]*)?")
_ENDS_TABLE = (*labels.TOTAL, *labels.NET, *labels.VAT_TOTAL)
_GAP = 3.5  # line heights of empty space that end a table


def read_rows(layout: Layout) -> list[ExtractedLine]:
    rows: list[ExtractedLine] = []
    for line in layout.lines:
        columns = _columns(line)
        if columns:
            rows.extend(_table(layout, line, columns))
    return rows


def _columns(line: Line) -> dict[str, Cell] | None:
    """The header's columns by role, if `line` is a table header (it names a description and an amount)."""
    columns: dict[str, Cell] = {}
    for tier in _DESCRIPTION:
        described = [cell for cell in line.cells if tier.fullmatch(cell.text)]
        if described:
            columns["description"] = described[0]
            break
    for role, pattern in _COLUMNS.items():
        named = [cell for cell in line.cells if pattern.fullmatch(cell.text) and cell not in columns.values()]
        if named:
            columns[role] = named[-1]  # the rightmost amount column is the row total
    if "description" not in columns or "amount" not in columns:
        return None
    return columns


def _section(line: Line) -> str | None:
    """A project heading inside the table ("Märkning: 1313 Stender VB 1966"): the rows below it are that
    project's, which tells the matcher how much of an invoice that names two projects is whose."""
    return line.text.strip() if any(tier.match(line.text) for tier in labels.PROJECT) else None


def _table(layout: Layout, header: Line, columns: dict[str, Cell]) -> list[ExtractedLine]:
    rows: list[ExtractedLine] = []
    section: str | None = None
    bottom = header.y1
    for line in layout.lines[header.index + 1:]:
        if line.page != header.page or line.y0 - bottom > _GAP * line.height:
            break
        if any(tier.match(cell.text) for cell in line.cells for tier in _ENDS_TABLE) or _columns(line):
            break
        bottom = line.y1
        cells: dict[str, list[tuple[float, Cell]]] = {}
        for cell in line.cells:
            role, overlap = _column_of(cell, columns)
            cells.setdefault(role, []).append((overlap, cell))
        amount = money(_best(cells, "amount")) if "amount" in cells else None
        if amount is not None:
            rows.append(_row(line, cells, amount, section))
        else:
            section = _section(line) or section
    return rows


def _column_of(cell: Cell, columns: dict[str, Cell]) -> tuple[str, float]:
    """The header column `cell` overlaps most (and by how much), else the nearest one."""
    def overlap(header: Cell) -> float:
        return min(cell.x1, header.x1) - max(cell.x0, header.x0)

    role, header = max(columns.items(), key=lambda item: overlap(item[1]))
    if overlap(header) > 0:
        return role, overlap(header)
    nearest = min(columns.items(), key=lambda item: abs((cell.x0 + cell.x1) - (item[1].x0 + item[1].x1)))
    return nearest[0], overlap(nearest[1])


def _best(cells: dict[str, list[tuple[float, Cell]]], role: str) -> str:
    """The text of the cell that sits most squarely under the column's header."""
    return max(cells[role], key=lambda placed: placed[0])[1].text


def _row(line: Line, cells: dict[str, list[tuple[float, Cell]]], amount: Decimal, section: str | None) -> ExtractedLine:
    described = [cell.text for _, cell in cells.get("description", [])]
    quantity: Decimal | None = None
    unit = _best(cells, "unit") if "unit" in cells else None
    if "quantity" in cells:
        found = _QUANTITY.fullmatch(_best(cells, "quantity"))
        if found:
            quantity = number(found.group("number"))
            unit = unit or found.group("unit")
    unit_price = money(_best(cells, "unit_price")) if "unit_price" in cells else None
    return ExtractedLine(
        description=" ".join(described) or line.cells[0].text, quantity=quantity, unit=unit, unit_price=unit_price,
        amount=amount, section=section,
    )

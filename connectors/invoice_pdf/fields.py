"""The field rules: which label, which value, which of several candidates wins.

Each rule asks the layout for the value after its labels (labels.py, most specific first)
and keeps only values that parse as what the field holds, so "Total HT" can never be read as
a total and "Due Date:" never as an invoice date. Totals take the label's last occurrence
(sub-totals come first); everything else its first.

Nothing is computed that the checks after this step must verify: a net amount that is not
printed stays None rather than total minus VAT, because those checks compare the printed
amounts with each other. Two values follow from what is printed without arithmetic on the
totals: the VAT amount is the sum of the VAT lines when no VAT total is printed, and a lone
VAT rate's base is the net.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from decimal import Decimal

from connectors.invoice_pdf import amounts, identifiers, labels
from connectors.invoice_pdf.dates import DateReader
from connectors.invoice_pdf.layout import Cell, Layout, Line, Match, text_value
from models.invoice_review import VatLine

_CODE = re.compile(r"[A-Za-z0-9][\w/.\-]*")
_MAX_CODE = 40


class FieldReader:
    """Reads the scalar fields of one document's layout."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.dates = DateReader(layout.text)

    def invoice_number(self) -> tuple[str, Line] | None:
        """The invoice number and the line it is printed on."""
        found = self.layout.first(labels.INVOICE_NUMBER, self._code)
        if found:
            return found[0], found[1].line
        for line in self.layout.lines:
            title = labels.TITLE_LINE.search(line.text)
            number = self._code(title.group("number")) if title else None
            if number:
                return number, line
        return None

    def invoice_date(self, number: tuple[str, Line] | None) -> dt.date | None:
        """The labelled date, or the date on the invoice number's line ("Nr. 471102 vom 05.06.2018")."""
        found = self.layout.first(labels.INVOICE_DATE, self.dates.at_start)
        if found:
            return found[0]
        return self.dates.search(number[1].text) if number else None

    def due_date(self) -> dt.date | None:
        found = self.layout.first(labels.DUE_DATE, self.dates.at_start)
        if found:
            return found[0]
        for line in self.layout.lines:
            sentence = labels.DUE_SENTENCE.search(line.text)
            if sentence:
                date = self.dates.at_start(line.text[sentence.end():])
                if date:
                    return date
        return None

    def total(self) -> tuple[Decimal, Match] | None:
        return self.layout.first(labels.TOTAL, amounts.money, below=False, last=True)

    def net(self) -> Decimal | None:
        found = self.layout.first(labels.NET, amounts.money, below=False, last=True)
        found = found or self.layout.first(labels.NET_COLUMN, amounts.money, last=True)
        return found[0] if found else None

    def vat_lines(self, net: Decimal | None) -> list[VatLine]:
        """"Moms 25 % … 1 789,40": the rate from the label, the VAT last on the line, a base before it.

        A lone rate applies to the whole `net`, so that is its base when none is printed beside it.
        """
        found: list[VatLine] = []
        for line in self.layout.lines:
            for position, cell in enumerate(line.cells):
                vat = labels.VAT_LINE.match(cell.text)
                if not vat:
                    continue
                rate = amounts.rate(vat.group("rate"))
                values = amounts.amounts(cell.text[vat.end():])
                values += [a for c in line.cells[position + 1:] for a in amounts.amounts(c.text)]
                if rate is not None and values:
                    entry = VatLine(rate=rate, net=values[-2] if len(values) > 1 else None, vat=values[-1])
                    if entry not in found:
                        found.append(entry)
                break
        if len(found) == 1 and found[0].net is None and net is not None:
            found[0] = found[0].model_copy(update={"net": net})
        return found

    def vat_amount(self, vat_lines: list[VatLine]) -> Decimal | None:
        found = self.layout.first(labels.VAT_TOTAL, amounts.money, below=False, last=True)
        found = found or self.layout.first(labels.VAT_COLUMN, amounts.money, last=True)
        if found:
            return found[0]
        return sum((line.vat for line in vat_lines), Decimal(0)) if vat_lines else None

    def currency(self, total: tuple[Decimal, Match] | None) -> str | None:
        """The currency printed with the total, else the one the document names, else the one most
        printed with amounts, else in column headers ("Gesamt/€")."""
        if total is not None:
            match = total[1]
            right = match.line.after(match.cell)
            for printed in (match.cell.text, right.text if right else ""):
                code = amounts.currency(printed)
                if code:
                    return code
        named = self.layout.first(labels.CURRENCY, _currency_code)
        if named:
            return named[0]
        with_amounts: Counter[str] = Counter()
        anywhere: Counter[str] = Counter()
        for line in self.layout.lines:
            for cell in line.cells:
                code = amounts.currency(cell.text)
                if code:
                    (with_amounts if amounts.amounts(cell.text) else anywhere)[code] += 1
        seen = with_amounts or anywhere
        return seen.most_common(1)[0][0] if seen else None

    def reference(self, tiers: tuple[re.Pattern[str], ...]) -> tuple[str, str] | None:
        found = self.layout.first(tiers, text_value)
        return (found[0], found[1].label) if found else None

    def supplier_ids(self, buyer: set[Cell]) -> dict[str, str | None]:
        """Org.nr, VAT number and payment accounts, from everything not printed as the buyer's."""
        supplier_text = self.layout.cell_text(buyer)
        org_number = identifiers.org_number(supplier_text)
        vat_numbers = identifiers.vat_numbers(supplier_text)
        matching = [v for v in vat_numbers if org_number and v == f"SE{org_number.replace('-', '')}01"]
        return {
            "supplier_org_nr": org_number,
            "supplier_vat_number": (matching or vat_numbers or [None])[0],
            "bankgiro": identifiers.bankgiro(supplier_text),
            "plusgiro": identifiers.plusgiro(supplier_text),
            "iban": identifiers.iban(supplier_text),
            "ocr": self._ocr(),
        }

    def _ocr(self) -> str | None:
        """After its label (beside or above it), else in a sentence ("Ange OCR-nummer … vid betalning")."""
        found = self.layout.first(labels.OCR, identifiers.valid_ocr)
        return found[0] if found else identifiers.ocr(self.layout.cell_text())

    def reverse_charge(self) -> bool:
        return labels.REVERSE_CHARGE.search(self.layout.text) is not None

    def _code(self, value: str) -> str | None:
        """An invoice number: the first token, with a digit, that is not a date."""
        token = value.lstrip("#:. ").split(" ")[0].rstrip(".,;:")
        if (
            _CODE.fullmatch(token) and any(c.isdigit() for c in token) and len(token) <= _MAX_CODE
            and self.dates.at_start(token) is None
        ):
            return token
        return None


def _currency_code(value: str) -> str | None:
    return amounts.CURRENCIES.get(value.strip().upper())

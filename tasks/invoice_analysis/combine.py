"""One reading of an invoice from two readers: the rule-based one and, when a key is set, Claude.

The two fail differently. The rules read the text layer exactly as printed but only where they
know the label, and see nothing on a scanned page; Claude reads any layout but can misread a
digit or fill in what it expected to see. So each field is settled by evidence, in this order:

1. Where only one reader found a value, it is taken: a gap in one reader is not a statement that
   the field is absent. (`reverse_charge` False counts as "not found": the rules miss the phrase
   on a scanned page as surely as any other text.)
2. Where both found the same value, it is kept.
3. Where they disagree and the field can be checked on its own (Bankgiro, Plusgiro and OCR carry
   a Luhn check digit; org.nr, VAT number and IBAN their own checksums), the value that passes
   wins: a misread digit almost never yields another valid number.
4. The money fields are checked together: net + VAT = total, within öresavrundning (the amount
   to pay is rounded to whole kronor, so the sum may be off by up to 50 öre). Of the combinations
   of the two readers' values the first that adds up wins; the VAT lines must add up to the VAT
   and the rows to the net in the same way.
5. Where nothing decides, the rules win: what they return is in the text layer verbatim, and a
   decision that can be explained by pointing at the page is easier to trust and review.

Project hints are evidence for the matcher rather than one answer, so they are the union of both,
each said once.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from stdnum import iban, luhn
from stdnum.eu import vat as eu_vat
from stdnum.se import orgnr

from connectors.claude_invoice import ClaudeInvoiceReader
from models.extraction_cache import cached_fields, store_fields
from models.invoice_review import Extraction, ExtractedFields, ProjectHint

ORESAVRUNDNING = Decimal("0.50")
MONEY = ("net", "vat_amount", "total")
_SETTLED_TOGETHER = frozenset({*MONEY, "vat_lines", "lines", "project_hints"})


def _mod10(shortest: int, longest: int) -> Callable[[str], bool]:
    """A check for numbers of `shortest`..`longest` digits ending in a Luhn (10-modul) check digit;
    the spaces and hyphens they are printed with are ignored."""

    def valid(value: str) -> bool:
        digits = re.sub(r"[\s-]", "", value)
        return shortest <= len(digits) <= longest and luhn.is_valid(digits)

    return valid


CHECKS: dict[str, Callable[[str], bool]] = {
    "bankgiro": _mod10(7, 8),
    "plusgiro": _mod10(2, 8),
    "ocr": _mod10(2, 25),
    "iban": iban.is_valid,
    "supplier_org_nr": orgnr.is_valid,
    "buyer_org_nr": orgnr.is_valid,
    "supplier_vat_number": eu_vat.is_valid,
}


def combine(rules: Extraction, claude: ExtractedFields | None) -> Extraction:
    """The rule-based extraction, with Claude's reading merged in when there is one."""
    if claude is None:
        return rules
    return rules.model_copy(update={"method": "rules+claude", "fields": _merged(rules.fields, claude)})


def read_with_claude(
    pdf: bytes, sha256: str, reader: ClaudeInvoiceReader, engine: sa.Engine, tenant_id: str
) -> ExtractedFields:
    """Claude's reading of `pdf` (whose SHA-256 is `sha256`): from the cache when these bytes were
    read before with the reader's model, otherwise asked for and kept. Errors of the reader pass
    through, and nothing is cached for them, so a later run asks again."""
    cached = cached_fields(engine, tenant_id, sha256, reader.model)
    if cached is not None:
        return cached
    fields = reader.read(pdf)
    store_fields(engine, tenant_id, sha256, reader.model, fields)
    return fields


def _merged(rules: ExtractedFields, claude: ExtractedFields) -> ExtractedFields:
    merged: dict[str, Any] = {
        name: _pick(getattr(rules, name), getattr(claude, name), CHECKS.get(name))
        for name in ExtractedFields.model_fields
        if name not in _SETTLED_TOGETHER
    }
    merged.update(_money(rules, claude))
    merged["vat_lines"] = _pick(rules.vat_lines, claude.vat_lines,
                                lambda lines: _sum(line.vat for line in lines) == merged["vat_amount"])
    merged["lines"] = _pick(rules.lines, claude.lines,
                            lambda lines: _sum(line.amount for line in lines) == merged["net"])
    merged["project_hints"] = _union(rules.project_hints, claude.project_hints)
    return ExtractedFields(**merged)


def _found(value: Any) -> bool:
    """Whether a reader found anything; an amount of 0.00 is a finding (so no truthiness test)."""
    return value is not None and value is not False and value != "" and value != []


def _pick(rules: Any, claude: Any, valid: Callable[[Any], bool] | None = None) -> Any:
    """Rules 1, 2, 3 and 5 of the module docstring, for one field."""
    if not _found(rules):
        return claude
    if not _found(claude) or rules == claude:
        return rules
    if valid is not None and not valid(rules) and valid(claude):
        return claude
    return rules


def _money(rules: ExtractedFields, claude: ExtractedFields) -> dict[str, Decimal | None]:
    """Rule 4: the first combination of the readers' net, VAT and total that adds up, the rules'
    values tried first; field by field as `_pick` when none does (or one is missing in both)."""
    options = [[v for v in dict.fromkeys((getattr(rules, name), getattr(claude, name))) if v is not None]
               for name in MONEY]
    for net, vat, total in itertools.product(*options):
        if abs(net + vat - total) <= ORESAVRUNDNING:
            return {"net": net, "vat_amount": vat, "total": total}
    return {name: _pick(getattr(rules, name), getattr(claude, name)) for name in MONEY}


def _sum(amounts: Iterable[Decimal]) -> Decimal:
    return sum(amounts, Decimal("0.00"))


def _union(*hint_lists: list[ProjectHint]) -> list[ProjectHint]:
    """Every hint once, in the order found (the rules' first). Two hints are the same when their
    kind and their value match, ignoring case and spacing; the first one's label is kept."""
    seen: set[tuple[str, str]] = set()
    union: list[ProjectHint] = []
    for hint in itertools.chain(*hint_lists):
        key = (hint.kind, " ".join(hint.value.split()).casefold())
        if key not in seen:
            seen.add(key)
            union.append(hint)
    return union

"""Payment and registration identifiers, found by their label and kept only when they validate.

A misread Bankgiro or OCR number sends money to the wrong place, so every Swedish identifier
must pass its check digit (python-stdnum): Bankgiro, Plusgiro and OCR use Luhn (mod 10),
the organisation number Luhn over its ten digits, the VAT number is ``SE`` + org.nr + ``01``.
A number that fails is not returned at all; the reviewer sees the field as missing, which
is what it is. IBANs must pass ISO 13616 mod 97 (which rejects the corpus's
"US1234567890", an account number, not an IBAN).

Foreign VAT ids are kept when they have their country's format even if the check digit
fails: sample invoices (the ZUGFeRD corpus's DE123456789) carry such ids, and a foreign id
is only shown to the reviewer, never matched against the Swedish supplier register.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from stdnum import iban as iso_iban
from stdnum import luhn
from stdnum.exceptions import InvalidChecksum, ValidationError
from stdnum.se import orgnr, vat as se_vat
from stdnum.util import get_cc_module

# Label, then the value in the same cell or the next one (cells are separated by a tab in
# Layout.cell_text); [ \t] rather than \s, so a label never takes a value from the next line.
_BANKGIRO = re.compile(r"(?i:\b(?:bankgiro(?:nummer|nr)?|bg)\b\.?(?: ?nr)?\.?)[ \t]*:?[ \t]*(\d{3,4}-\d{4})(?![\d-])")
_PLUSGIRO = re.compile(
    r"(?i:\b(?:plusgiro(?:nummer|nr)?|postgiro|pg)\b\.?(?: ?nr)?\.?)[ \t]*:?[ \t]*(\d{1,2}(?: ?\d{2}){0,3}-\d)(?![\d-])"
)
_OCR = re.compile(
    r"(?i:\b(?:ocr(?:[- ]?(?:nummer|nr|referens))?|betalningsreferens|referensnummer)\b\.?)[ \t]*:?[ \t]*"
    r"(\d(?:[\d ]{0,28}\d)?)(?![\d.,-])"
)
_ORG_NUMBER = re.compile(
    r"(?i:\b(?:org(?:anisations)?\.? ?-? ?n(?:umme)?r|orgnr|org\.? ?nummer)\b\.?)[ \t]*:?[ \t]*(\d{6}-?\d{4})(?!\d)"
)
_SWEDISH_VAT = re.compile(r"\bSE ?\d{6}-?\d{4} ?01\b")
_VAT_LABEL = re.compile(
    r"(?i:momsreg(?:istrerings)?\.?[ \t]*-?[ \t]*n(?:umme)?r|moms[ \t]*nr"
    r"|vat(?:[ \t]*reg(?:istration)?\.?)?(?:[ \t-]*(?:no|nr|number|id))?"
    r"|ust\.?[ \t-]*id\.?(?:[ \t-]*nr)?|mwst\.?[ \t-]*nr|n°[ \t]*tva|tva|btw(?:[ \t-]*(?:nummer|nr))?)\.?[ \t]*:?[ \t]*"
    r"(?P<id>[A-Z]{2,3}[ .-]?[0-9A-Z](?:[ .-]?[0-9A-Z]){7,14})"
)
# "Köparens momsreg.nr", "N° TVA client", "Customer VAT Number", "Uw BTW nummer": the buyer's id.
_BUYER_WORDS = re.compile(
    r"(?i)\b(?:client|customer|kund(?:ens)?|köpar(?:e|ens)|buyer'?s?|käufers?|leistungsempfängers?|acheteur"
    r"|afnemer|uw|your|ihre?|votre|er|ert)\b"
)
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){10,32}")


def _luhn(digits: str) -> bool:
    return digits.isdigit() and luhn.is_valid(digits)


def bankgiro(text: str) -> str | None:
    """``NNN-NNNN`` or ``NNNN-NNNN`` after a Bankgiro label, with a valid check digit."""
    return _first(_BANKGIRO.finditer(text), lambda number: number if _luhn(number.replace("-", "")) else None)


def plusgiro(text: str) -> str | None:
    """A PlusGiro number (``12 34 56-7``) after its label, with a valid check digit."""
    return _first(_PLUSGIRO.finditer(text), lambda number: number if _luhn(re.sub(r"\D", "", number)) else None)


def ocr(text: str) -> str | None:
    """The OCR payment reference after its label: digits only, Luhn-valid (Bankgirot's OCR rule)."""
    return _first(_OCR.finditer(text), valid_ocr)


def valid_ocr(number: str) -> str | None:
    """`number` as an OCR reference (digits, spaces ignored) if its Luhn check digit holds."""
    digits = number.replace(" ", "")
    return digits if 2 <= len(digits) <= 25 and _luhn(digits) else None


def org_number(text: str) -> str | None:
    """A Swedish organisation number after its label, as ``NNNNNN-NNNN``, if its check digit holds."""
    def valid(number: str) -> str | None:
        return orgnr.format(number) if orgnr.is_valid(number) else None

    return _first(_ORG_NUMBER.finditer(text), valid)


def vat_numbers(text: str) -> list[str]:
    """Every VAT id in `text` (cells separated by tabs) not labelled as the buyer's, compact."""
    found: list[str] = []
    for match in (*_SWEDISH_VAT.finditer(text), *_VAT_LABEL.finditer(text)):
        number = vat_number(match.group("id") if match.re is _VAT_LABEL else match.group(0))
        if number and number not in found and not _BUYER_WORDS.search(_label_of(text, match.start())):
            found.append(number)
    return found


def _label_of(text: str, start: int) -> str:
    """What precedes position `start` in its cell, or the whole cell before it when there is nothing."""
    line = text[text.rfind("\n", 0, start) + 1:start]
    cells = line.split("\t")
    return cells[-1] if cells[-1].strip() or len(cells) == 1 else cells[-2]


def vat_number(candidate: str) -> str | None:
    """`candidate` as a compact VAT id: Swedish ids must validate, foreign ones need their format."""
    compact = re.sub(r"[ .-]", "", candidate).upper()
    country = compact[:2]
    if country == "SE":
        return compact if se_vat.is_valid(compact) else None
    try:
        module = get_cc_module("gr" if country == "EL" else country.lower(), "vat")
    except (ImportError, ValueError):
        module = None
    if module is None:
        return None
    for length in range(len(compact), 9, -1):  # "DE 232 446 240 Steuer" may carry a word along
        try:
            module.validate(compact[:length])
            return compact[:length]
        except InvalidChecksum:
            return compact[:length]
        except ValidationError:
            continue
    return None


def iban(text: str) -> str | None:
    """The first valid IBAN in `text`, compact. Groups may be of any size ("FR76 10107 00245 …")."""
    for match in _IBAN.finditer(text):
        groups = match.group(0).split(" ")
        for end in range(len(groups), 0, -1):
            candidate = "".join(groups[:end])
            if iso_iban.is_valid(candidate):
                return candidate
    return None


def _first(matches: Iterable[re.Match[str]], valid: Callable[[str], str | None]) -> str | None:
    for match in matches:
        value = valid(match.group(1))
        if value is not None:
            return value
    return None

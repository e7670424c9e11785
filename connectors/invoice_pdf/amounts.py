"""Amounts and currencies as invoices print them: ``1 234,56 kr``, ``€ 1.234,56``, ``$1,234.56``.

The decimal mark is whichever of ``,`` and ``.`` comes last when both occur; a lone mark
followed by exactly three digits groups thousands (``1.420`` is 1420) unless the integer part
is 0 (``0.025``). Spaces, NBSP and thin spaces group thousands. Money has two decimals
(models.types.Money), so a value with more is not money: `money()` returns None for it and
the field stays empty rather than rounded.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

TWO_PLACES = Decimal("0.01")

# Currency markers as printed, mapped to ISO 4217. "kr" and "1 234:-" are Swedish practice on a
# Swedish invoice (NOK/DKK invoices print their code).
CURRENCIES = {
    "SEK": "SEK", "KR": "SEK", "KR.": "SEK", ":-": "SEK",
    "EUR": "EUR", "€": "EUR", "USD": "USD", "US$": "USD", "$": "USD", "GBP": "GBP", "£": "GBP",
    "NOK": "NOK", "DKK": "DKK", "CHF": "CHF",
}
_MARKER = r"(?:SEK|EUR|USD|US\$|GBP|NOK|DKK|CHF|kr\.?|€|\$|£)"
_NUMBER = r"[-−–]?\s?(?:\d{1,3}(?:[ \u00a0\u202f.,']\d{3})+(?:[.,]\d+)?(?!\d)|\d+(?:[.,]\d+)?)"
_AMOUNT = re.compile(
    rf"(?P<before>{_MARKER})?\s?(?P<number>{_NUMBER})\s?(?P<after>{_MARKER}|:-)?", re.IGNORECASE
)
_ONLY_AMOUNT = re.compile(rf"\s*(?:{_AMOUNT.pattern})\s*", re.IGNORECASE)
_MINUS = "-−–"


def number(text: str) -> Decimal | None:
    """The number in `text` (digits with grouping and a decimal mark, optional minus), else None."""
    digits = re.sub(r"[\s\u00a0\u202f']", "", text)
    negative = digits[:1] in _MINUS
    digits = digits.lstrip(_MINUS)
    if not digits or not digits[0].isdigit():
        return None
    comma, dot = digits.rfind(","), digits.rfind(".")
    if comma >= 0 and dot >= 0:
        decimal = max(comma, dot)
        digits = digits[:decimal].replace(",", "").replace(".", "") + "." + digits[decimal + 1:]
    elif comma >= 0 or dot >= 0:
        mark = "," if comma >= 0 else "."
        whole, _, fraction = digits.rpartition(mark)
        if digits.count(mark) > 1 or (len(fraction) == 3 and whole.lstrip("0")):
            digits = digits.replace(mark, "")
        else:
            digits = whole.replace(mark, "") + "." + fraction
    try:
        value = Decimal(digits)
    except InvalidOperation:
        return None
    return -value if negative else value


def money(text: str) -> Decimal | None:
    """`text` as an amount of money if it is nothing but one (with an optional currency marker)."""
    found = _ONLY_AMOUNT.fullmatch(text)
    if not found:
        return None
    value = number(found.group("number"))
    if value is None or value.quantize(TWO_PLACES) != value:
        return None
    return value.quantize(TWO_PLACES)


def amounts(text: str) -> list[Decimal]:
    """Every money amount in a line of text, left to right; numbers without a decimal part are not amounts."""
    found: list[Decimal] = []
    for match in _AMOUNT.finditer(text):
        raw = match.group("number")
        if not re.search(r"[.,]\d{2}$", raw) or re.search(r"[.,]\d{2}[.,]", raw):
            continue
        begin = match.start("number") + len(raw) - len(raw.lstrip())
        if begin > 0 and text[begin - 1].isalnum():
            continue
        value = number(raw)
        if value is not None and value.quantize(TWO_PLACES) == value:
            found.append(value.quantize(TWO_PLACES))
    return found


def currency(text: str) -> str | None:
    """The ISO code of the currency marker in `text` (a value such as ``8 947,00 SEK`` or a label)."""
    for match in re.finditer(rf"(?<![A-Za-z])(?:{_MARKER}|:-)(?![A-Za-z])", text, re.IGNORECASE):
        return CURRENCIES[match.group(0).upper()]
    return None


def rate(text: str) -> Decimal | None:
    """A VAT rate as a percentage: ``25``, ``12,0`` → 12, ``5,5`` → 5.5."""
    value = number(text)
    if value is None or not 0 <= value <= 100:
        return None
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value

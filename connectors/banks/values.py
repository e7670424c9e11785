"""Dates and amounts as the bank exports write them; None for text a parser does not accept.

Number formats differ by bank and are parsed per format, never guessed (bank_formats.md §4.2):
Swedbank's Swedish export writes ``-1275.71`` (decimal point, no grouping), ICA-banken writes
``-1 079,40 kr`` (space or non-breaking-space grouping, decimal comma, suffix) and the Baltic
statement writes an unsigned ``75,78`` or ``15.31`` next to a D/K flag. A parser that read
``.`` as grouping in one bank and as decimal in another would corrupt amounts silently.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from functools import lru_cache

# The four date forms of seed 004 §5.2.2; the separator must be the same twice.
_YEAR_FIRST = re.compile(r"(\d{4})([-/])(\d{1,2})\2(\d{1,2})")
_YEAR_LAST = re.compile(r"(\d{1,2})([.-])(\d{1,2})\2(\d{4})")
_ISO_DATE = re.compile(r"\s*\d{4}-\d{2}-\d{2}\s*")

_POINT_OR_COMMA = re.compile(r"[+-]?\d+(?:[.,]\d+)?")
_UNSIGNED = re.compile(r"\d+(?:[.,]\d+)?")
# Excel and browsers may turn the grouping space into NBSP or narrow NBSP, and a minus into U+2212.
_SWEDISH = re.compile(r"([+\-\u2212]?)\s*(\d{1,3}(?:[ \u00a0\u202f]\d{3})+|\d+)(?:,(\d+))?(?:\s*kr)?", re.IGNORECASE)
_GROUPING = re.compile(r"[ \u00a0\u202f]")


@lru_cache(maxsize=8192)  # a statement repeats a few hundred dates over thousands of rows
def parse_date(text: str) -> date | None:
    """YYYY-MM-DD, YYYY/MM/DD, DD.MM.YYYY or DD-MM-YYYY."""
    text = text.strip()
    if match := _YEAR_FIRST.fullmatch(text):
        year, month, day = match[1], match[3], match[4]
    elif match := _YEAR_LAST.fullmatch(text):
        day, month, year = match[1], match[3], match[4]
    else:
        return None
    try:
        return date(int(year), int(month), int(day))
    except ValueError:  # 2025-02-30
        return None


def is_iso_date(text: str) -> bool:
    return _ISO_DATE.fullmatch(text) is not None


def point_amount(text: str) -> Decimal | None:
    """Swedbank's Swedish export: signed, no grouping, ``.`` decimal (``,`` once Excel has re-saved it)."""
    text = text.strip()
    return Decimal(text.replace(",", ".")) if _POINT_OR_COMMA.fullmatch(text) else None


def unsigned_amount(text: str) -> Decimal | None:
    """The Baltic statement: no sign (the D/K column carries it), ``,`` or ``.`` decimal, no grouping."""
    text = text.strip()
    return Decimal(text.replace(",", ".")) if _UNSIGNED.fullmatch(text) else None


def swedish_amount(text: str) -> Decimal | None:
    """ICA-banken: ``-1 234,50 kr``, ``7,55 kr``, ``-125,50``; grouping by space, NBSP or narrow NBSP."""
    match = _SWEDISH.fullmatch(text.strip())
    if match is None:
        return None
    sign, whole, fraction = match.groups()
    if len(whole) > 3:
        whole = _GROUPING.sub("", whole)
    number = Decimal(f"{whole}.{fraction}" if fraction else whole)
    return -number if sign and sign != "+" else number

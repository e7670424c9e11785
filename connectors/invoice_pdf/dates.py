"""Dates as invoices print them, in the languages our suppliers (and the reference corpus) use.

ISO ``2026-08-10`` is the Swedish norm; ``10.08.2026`` and ``10-8-2026`` are day first
everywhere; month names come in Swedish, English, German, French and Dutch. ``03/04/2023``
is the one ambiguous form: day first in Europe, month first in the US. A document is
consistent with itself, so `DateReader` decides once per document: if any slash date on it
can only be month first (``11/17/2017``) all of them are, otherwise day first.
"""

from __future__ import annotations

import datetime as dt
import re

_MONTHS: dict[str, int] = {}
for _number, _names in enumerate((
    "januari january januar janvier jan jän janv",
    "februari february februar février fevrier feb febr févr fév",
    "mars march märz maart mar mär mrt",
    "april avril apr avr",
    "maj may mai mei",
    "juni june juin jun",
    "juli july juillet jul juil",
    "augusti august août aout augustus aug",
    "september septembre sep sept",
    "oktober october octobre oct okt",
    "november novembre nov",
    "december dezember décembre decembre dec dez déc",
), start=1):
    for _name in _names.split():
        _MONTHS[_name] = _number

_MONTH = r"(?P<month>[a-zäéû]{3,9})\.?"
_PATTERNS = (
    re.compile(r"(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})(?!\d)"),
    re.compile(r"(?P<day>\d{1,2})[.\-](?P<month>\d{1,2})[.\-](?P<year>\d{4}|\d{2})(?![\d.]\d)"),
    re.compile(r"(?P<first>\d{1,2})/(?P<second>\d{1,2})/(?P<year>\d{4})(?!\d)"),
    re.compile(rf"(?P<day>\d{{1,2}})(?:\.|er)?\s+{_MONTH}\s+(?P<year>\d{{4}})", re.IGNORECASE),
    re.compile(rf"{_MONTH}\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\s*,?\s*(?P<year>\d{{4}})", re.IGNORECASE),
)
_SLASHED = re.compile(r"(?<!\d)(\d{1,2})/(\d{1,2})/\d{4}(?!\d)")


class DateReader:
    """Reads dates the way one document writes them (see the module docstring on ``dd/mm``)."""

    def __init__(self, document_text: str) -> None:
        pairs = [(int(a), int(b)) for a, b in _SLASHED.findall(document_text)]
        self.month_first = any(b > 12 for _, b in pairs) and not any(a > 12 for a, _ in pairs)

    def at_start(self, text: str) -> dt.date | None:
        """The date `text` begins with (a value cell: "2026-09-09", "7. Mai 2014", "August 3 , 2014")."""
        for pattern in _PATTERNS:
            found = pattern.match(text.strip())
            if found:
                return self._date(found)
        return None

    def search(self, text: str) -> dt.date | None:
        """The first date anywhere in `text` ("Please remit until 2020-12-12.")."""
        best: tuple[int, dt.date] | None = None
        for pattern in _PATTERNS:
            for found in pattern.finditer(text):
                date = None if found.start() and text[found.start() - 1].isalnum() else self._date(found)
                if date is not None:
                    if best is None or found.start() < best[0]:
                        best = (found.start(), date)
                    break
        return best[1] if best else None

    def _date(self, found: re.Match[str]) -> dt.date | None:
        parts = found.groupdict()
        year = int(parts["year"])
        if year < 100:
            year += 2000
        if "first" in parts:
            first, second = int(parts["first"]), int(parts["second"])
            month, day = (first, second) if self.month_first else (second, first)
        else:
            day = int(parts["day"])
            month_text = parts["month"]
            month = int(month_text) if month_text.isdigit() else _MONTHS.get(month_text.lower(), 0)
        try:
            return dt.date(year, month, day)
        except ValueError:
            return None

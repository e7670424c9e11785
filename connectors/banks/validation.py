"""The file and row rules of seed 004 §5 and §6.

A file-level problem stops the import (§6.1); a row-level problem only keeps that row out,
and every one is reported with its line number (§6.2). The limits are the seed's.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

from connectors.banks.messages import RowMessage, file_message, row_message
from connectors.banks.values import parse_date
from models.types import TWO_PLACES

EXTENSIONS = (".csv", ".txt")
MAX_AMOUNT = Decimal(10_000_000)
MAX_DESCRIPTION = 500
FUTURE_DAYS = 7
OLD_YEARS = 10
HOME_CURRENCY = "SEK"

# Control characters no bank writes: a spreadsheet, UTF-16 or other binary file renamed .csv shows
# them in its first bytes already, so only the start is searched.
_BINARY = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_SNIFFED = 64 * 1024
_CURRENCY = re.compile(r"[A-Z]{3}")


def _size(limit: int) -> str:
    for unit, factor in (("MB", 1024 * 1024), ("kB", 1024)):
        if limit % factor == 0:
            return f"{limit // factor} {unit}"
    return f"{limit} byte"


def check_file(name: str, size: int, max_bytes: int) -> RowMessage | None:
    """What can be told before reading: the file type (by extension) and the size (§5.1.1)."""
    if not name.lower().endswith(EXTENSIONS):
        return file_message("FILE_TYPE")
    if size > max_bytes:
        return file_message("FILE_TOO_LARGE", limit=_size(max_bytes))
    return None


def check_text(text: str) -> RowMessage | None:
    """Whether decoded text is a text file with something in it."""
    if not text.strip():
        return file_message("FILE_EMPTY")
    if _BINARY.search(text, 0, _SNIFFED):
        return file_message("ENCODING")
    return None


class RowChecker:
    """Applies the row rules (§5.2) and collects the errors and warnings of one file.

    Each check records its own problems and returns the value it read (None when nothing could be
    read); a row reader compares `mark()` before and after its checks to know whether the row failed.
    """

    def __init__(self, today: date) -> None:
        self.errors: list[RowMessage] = []
        self.warnings: list[RowMessage] = []
        self._latest = today + timedelta(days=FUTURE_DAYS)
        try:
            self._oldest = today.replace(year=today.year - OLD_YEARS)
        except ValueError:  # 29 February
            self._oldest = today.replace(year=today.year - OLD_YEARS, day=28)

    def mark(self) -> int:
        return len(self.errors)

    def failed_since(self, mark: int) -> bool:
        return len(self.errors) != mark

    def error(self, row: int, code: str, **values: object) -> None:
        self.errors.append(row_message(row, code, **values))

    def warning(self, row: int, code: str, **values: object) -> None:
        self.warnings.append(row_message(row, code, **values))

    def booking_date(self, text: str, row: int) -> date | None:
        """The row's date: required, at most 7 days ahead, a warning beyond 10 years back."""
        value = parse_date(text)
        if value is None:
            self.error(row, "DATE_INVALID")
        elif value > self._latest:
            self.error(row, "DATE_IN_FUTURE", value=value.isoformat())
        elif value < self._oldest:
            self.warning(row, "DATE_OLD", value=value.isoformat())
        return value

    def other_date(self, text: str, row: int) -> date | None:
        """A transaction or value date beside the booking date: may be empty, must parse if not."""
        if not text.strip():
            return None
        value = parse_date(text)
        if value is None:
            self.error(row, "DATE_INVALID")
        return value

    def amount(self, value: Decimal | None, row: int) -> Decimal | None:
        if value is None:
            self.error(row, "AMOUNT_INVALID")
        elif abs(value) > MAX_AMOUNT:
            self.error(row, "AMOUNT_TOO_LARGE", value=value)
        elif value != value.quantize(TWO_PLACES):
            self.error(row, "AMOUNT_DECIMALS", value=value)
        elif not value:
            self.warning(row, "AMOUNT_ZERO")
        return value

    def balance(self, parse: Callable[[str], Decimal | None], text: str, row: int) -> Decimal | None:
        """The running balance is optional: a bad one is left out with a warning, the row stays."""
        if not text.strip():
            return None
        value = parse(text)
        if value is None:
            self.warning(row, "BALANCE_INVALID", value=text.strip())
        return value

    def currency(self, text: str, row: int) -> str | None:
        code = text.strip().upper()
        if code == HOME_CURRENCY:
            return code
        if not _CURRENCY.fullmatch(code):
            self.error(row, "CURRENCY_INVALID", value=text.strip())
            return None
        self.warning(row, "CURRENCY_NOT_SEK", value=code)
        return code

    def description(self, row: int, text: str, counterparty: str | None = None) -> str | None:
        """The text, after the counterparty when there is one (§4.4: ``{Beneficiary/Payer} - {Details}``).

        The counterparty (stripped by the caller) is left out when the text repeats it, and stands
        alone when there is no text (§4.2, §4.3). Either may be at most 500 characters (§5.2.4);
        the joined description is cut to 500, as §4.4 says."""
        text = text.strip()
        if len(text) > MAX_DESCRIPTION or (counterparty and len(counterparty) > MAX_DESCRIPTION):
            self.error(row, "DESCRIPTION_TOO_LONG", value=max(len(text), len(counterparty or "")))
            return None
        if not counterparty or counterparty.casefold() == text.casefold():
            if not text:
                self.error(row, "DESCRIPTION_MISSING")
                return None
            return text
        return f"{counterparty} - {text}"[:MAX_DESCRIPTION] if text else counterparty

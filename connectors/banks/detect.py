"""Telling the export variant from a file's first lines: header, preamble or, headerless, its rows.

Detection looks at content only, never at the file name, which bank exports and users change
(bank_formats.md §5). A header is matched by its column names exactly: every required name,
none unknown. A format may also recognise a headerless file by its rows (the Baltic statement)
and may name a preamble line before the header (Swedbank's ``* Transaktioner Period …``,
ICA-banken's account number), from which the account number is taken when it holds one.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from connectors.banks.messages import RowMessage, file_message
from connectors.banks.values import parse_date
from connectors.csv_files import DELIMITERS, normalise_header

if TYPE_CHECKING:
    from connectors.banks.transaction import Transaction
    from connectors.banks.validation import RowChecker

Bank = Literal["ica", "swedbank"]
BankChoice = Literal["auto", "ica", "swedbank"]  # "auto": whichever bank's format the file has
BANK_NAMES: Mapping[Bank, str] = {"ica": "ICA-banken", "swedbank": "Swedbank"}
SCANNED_LINES = 10  # how far down a header may be: ICA writes up to 3 preamble lines, Swedbank 1


@dataclass(frozen=True)
class Columns:
    """Header names by field. A header matches when it has every field but the optional ones, and
    no name the format does not know (empty names, from trailing separators, are ignored)."""

    names: Mapping[str, tuple[str, ...]]
    optional: frozenset[str] = frozenset()
    _index: Mapping[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index = {normalise_header(name): key for key, names in self.names.items() for name in names}
        object.__setattr__(self, "_index", index)

    def match(self, cells: list[str]) -> dict[str, int] | None:
        positions: dict[str, int] = {}
        for position, cell in enumerate(cells):
            name = normalise_header(cell)
            if not name:
                continue
            key = self._index.get(name)
            if key is None or key in positions:
                return None
            positions[key] = position
        return positions if self.names.keys() - self.optional <= positions.keys() else None

    def expected(self, delimiter: str) -> str:
        return delimiter.join(names[0] for names in self.names.values())


@dataclass(frozen=True)
class Layout:
    """Where a file's rows are and how to read them, as detection found it."""

    format: Format
    delimiter: str
    header_line: int  # the line rows start after (1-based); 0 for a file that starts with rows
    columns: Mapping[str, int]  # field -> position in a row
    width: int | None  # cells a row must have (the header's); None where rows may be ragged
    account: str | None  # from a preamble line


RowReader = Callable[[list[str], Layout, int, "RowChecker"], "Transaction | None"]
Matcher = Callable[[list[str]], Mapping[str, int] | None]  # a line's cells -> field positions, or None


@dataclass(frozen=True)
class Format:
    """One export variant and how to recognise and read it."""

    name: str  # short variant name, e.g. "swedbank-se"
    bank: Bank
    expected: str  # the header (or row shape) an error message names
    match_header: Matcher
    read_row: RowReader
    match_row: Matcher | None = None  # for files without a header: a data row
    skip_row: Callable[[list[str]], bool] | None = None  # rows that are not transactions (balances)
    min_fields: int | None = None  # rows may be ragged but need this many cells; None: the header's width
    preamble: re.Pattern[str] | None = None  # a line before the header; a group "account" is the account


def split(line: str, delimiter: str) -> list[str]:
    return next(csv.reader([line], delimiter=delimiter), [])


def head(text: str) -> list[str]:
    """The first lines of a text, without line ends."""
    return [line.rstrip("\r") for line in text.split("\n", SCANNED_LINES)[:SCANNED_LINES]]


def detect(lines: list[str], formats: list[Format]) -> Layout | None:
    """The first line that is a known header or, for a headerless format, a known row."""
    for index, line in enumerate(lines):
        if not line.strip():
            continue
        for delimiter in DELIMITERS:
            cells = split(line, delimiter)
            if len(cells) < 3:
                continue
            for candidate in formats:
                if (columns := candidate.match_header(cells)) is not None:
                    width = None if candidate.min_fields else len(_without_trailing_empties(cells))
                    return Layout(candidate, delimiter, index + 1, columns, width, _account(candidate, lines[:index]))
                if candidate.match_row and (columns := candidate.match_row(cells)) is not None:
                    return Layout(candidate, delimiter, index, columns, None, _account(candidate, lines[:index]))
    return None


def undetected(lines: list[str], formats: list[Format]) -> RowMessage:
    """Why no format matched: no header, too few columns, or a header that is not a known one."""
    rows = [max((split(line, d) for d in DELIMITERS), key=len) for line in lines if line.strip()]
    header = next((cells for cells in rows if len(cells) > 1), None)
    if header is None:
        return file_message("TOO_FEW_COLUMNS")
    if not any(cell.strip() for cell in header) or any(parse_date(cell) for cell in header):
        return file_message("NO_HEADER")
    if len(header) < 3:
        return file_message("TOO_FEW_COLUMNS")
    # A known preamble with an unknown header: name only that bank's headers.
    named = [f for f in formats if f.preamble and any(f.preamble.match(line) for line in lines)] or formats
    return file_message("UNKNOWN_FORMAT", expected=expected(named))


def expected(formats: list[Format]) -> str:
    return " | ".join(f"{BANK_NAMES[f.bank]} {f.name}: {f.expected}" for f in formats)


def _without_trailing_empties(cells: list[str]) -> list[str]:
    end = len(cells)
    while end and not cells[end - 1].strip():
        end -= 1
    return cells[:end]


def _account(candidate: Format, preamble: list[str]) -> str | None:
    if candidate.preamble is None:
        return None
    for line in preamble:
        if (match := candidate.preamble.match(line.strip())) and match.groupdict().get("account"):
            return match["account"]
    return None

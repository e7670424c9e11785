"""Reading the CSV files Nordic systems and Excel write: encodings, separators, decimal commas.

Swedish exports come as UTF-8 (with or without a BOM) or as Windows-1252, separated by
``;`` (Excel's choice where the decimal mark is a comma) or ``,``. A text that decodes as
UTF-8 is UTF-8: Windows-1252 text with å, ä or ö practically never does, so trying the
strict UTF-8 codec first and falling back is exact for the two encodings that occur, where a
statistical detector would have to guess among dozens.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import NamedTuple

import pandas as pd

DELIMITERS = (";", ",", "\t")
_SPACES = re.compile(r"[\s\u00a0\u202f]")
# What clean_numbers does to a number, as one str.translate: every character _SPACES matches
# (Unicode's white space, the highest of which is U+3000) dropped and the decimal comma made a
# point. A regular expression over each cell cost six times as much.
_NUMBER_SPELLING = str.maketrans({**dict.fromkeys(c for c in map(chr, range(0x3001)) if _SPACES.match(c)), ",": "."})


@dataclass(frozen=True)
class DecodedText:
    text: str
    encoding: str
    sha256: str


def decode(data: bytes) -> DecodedText:
    """Decode file bytes: UTF-8 (BOM stripped), else Windows-1252, else ISO-8859-1."""
    digest = hashlib.sha256(data).hexdigest()
    if data.startswith(codecs.BOM_UTF8):
        return DecodedText(data[len(codecs.BOM_UTF8) :].decode("utf-8"), "utf-8-sig", digest)
    for encoding in ("utf-8", "cp1252"):
        try:
            return DecodedText(data.decode(encoding), encoding, digest)
        except UnicodeDecodeError:
            continue
    return DecodedText(data.decode("latin-1"), "latin-1", digest)  # every byte is a latin-1 character


def split_header(line: str, known: Iterable[str]) -> tuple[str, list[str]]:
    """Pick the delimiter under which the header line yields the most known column names."""
    wanted = {normalise_header(name) for name in known}

    def score(delimiter: str) -> int:
        cells = next(csv.reader([line], delimiter=delimiter), [])
        return sum(normalise_header(cell) in wanted for cell in cells)

    delimiter = max(DELIMITERS, key=score)
    return delimiter, next(csv.reader([line], delimiter=delimiter), [])


def normalise_header(name: str) -> str:
    return _SPACES.sub("", name).strip("\"'").casefold()


def first_line(text: str) -> str:
    return text.split("\n", 1)[0].rstrip("\r")


class CsvRow(NamedTuple):
    line: int  # the file's line number, as a spreadsheet shows it (header = 1)
    cells: list[str]


_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")


def lines(text: str, start: int = 0) -> Iterator[str]:
    """The text's lines from `start` on, with their endings (``\r\n``, ``\r`` or ``\n``, as
    ``io.StringIO(text, newline="")`` splits them), one at a time for ``csv.reader``: StringIO would
    first copy a 10 MB file into a buffer of four bytes a character."""
    return (match.group() for match in _LINE.finditer(text, start))


def data_rows(text: str, delimiter: str) -> Iterator[CsvRow]:
    """Rows after the header with their line numbers; blank lines are skipped."""
    reader = csv.reader(lines(text), delimiter=delimiter)
    next(reader, None)
    for cells in reader:
        if "".join(cells).strip():  # some cell holds more than white space (one C call, not one per cell)
            yield CsvRow(reader.line_num, cells)


def clean_numbers(values: pd.Series) -> pd.Series:
    """Swedish-written numbers (``1 234,50``) as text Decimal() reads (``1234.50``); nulls and
    values that are no text stay as they are."""
    return pd.Series([value.translate(_NUMBER_SPELLING) if isinstance(value, str) else value
                      for value in values.tolist()], index=values.index, dtype=values.dtype, name=values.name)

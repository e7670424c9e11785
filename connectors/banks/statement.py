"""Reading one bank-statement file: file checks, variant detection, then every row through the row rules.

Bad content never raises: a file-level problem is `Statement.file_error` and stops the reading
(seed 004 §6.1); row problems are listed with their line numbers and keep only their row out
(§6.2).
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from connectors.banks import ica, swedbank
from connectors.banks.detect import BANK_NAMES, Bank, BankChoice, Layout, detect, expected, head, undetected
from connectors.banks.messages import RowMessage, file_message
from connectors.banks.transaction import Transaction
from connectors.banks.validation import RowChecker, check_file, check_text
from connectors.csv_files import decode, lines
from models.store import gc_paused

FORMATS = ica.FORMATS + swedbank.FORMATS
MAX_BYTES = 10 * 1024 * 1024  # seed 004 §5.1.1


@dataclass
class Statement:
    """What one file held: its transactions, and every problem found on the way."""

    file_name: str
    size: int  # bytes
    sha256: str
    bank: Bank | None = None
    format: str | None = None  # the variant, e.g. "swedbank-se", "ica-5col"
    encoding: str | None = None
    delimiter: str | None = None
    account: str | None = None  # when the file names one account
    rows: int = 0  # data rows read, balance and turnover rows not counted
    transactions: list[Transaction] = field(default_factory=list)
    errors: list[RowMessage] = field(default_factory=list)
    warnings: list[RowMessage] = field(default_factory=list)
    file_error: RowMessage | None = None  # set when the file as a whole cannot be imported (row 0)


def read_statement(
    path: Path,
    bank: BankChoice = "auto",
    *,
    today: date | None = None,
    max_bytes: int = MAX_BYTES,
    data: bytes | None = None,
) -> Statement:
    """Read an ICA-banken or Swedbank export (from `data` when the caller has the bytes already).

    `bank` forces one bank's formats; `today` anchors the date rules, so tests can fix it."""
    if data is None and not path.is_file():  # /dev/zero or a FIFO: reading or hashing it would never end
        return Statement(path.name, 0, hashlib.sha256(b"").hexdigest(), file_error=file_message("NOT_A_FILE"))
    size = path.stat().st_size if data is None else len(data)
    if problem := check_file(path.name, size, max_bytes):
        return Statement(path.name, size, _sha256(path, data), file_error=problem)
    decoded = decode(path.read_bytes() if data is None else data)
    statement = Statement(path.name, size, decoded.sha256, encoding=decoded.encoding)
    if problem := check_text(decoded.text):
        statement.file_error = problem
        return statement
    try:
        _read_text(statement, decoded.text, bank, today or date.today())
    except csv.Error:  # a field past csv's 128 KiB limit, typically from an opening quote that never closes
        return Statement(path.name, size, decoded.sha256, encoding=decoded.encoding,
                         file_error=file_message("FILE_CORRUPT"))
    return statement


def _read_text(statement: Statement, text: str, bank: BankChoice, today: date) -> None:
    lines = head(text)
    formats = FORMATS if bank == "auto" else [f for f in FORMATS if f.bank == bank]
    layout = detect(lines, formats)
    if layout is None:
        found = detect(lines, FORMATS) if bank != "auto" else None
        statement.file_error = undetected(lines, formats) if found is None else file_message(
            "BANK_MISMATCH", bank=BANK_NAMES[bank], found=BANK_NAMES[found.format.bank], format=found.format.name,
            expected=expected(formats),
        )
        return
    statement.bank, statement.format, statement.delimiter = layout.format.bank, layout.format.name, layout.delimiter
    check = RowChecker(today)
    statement.rows, statement.transactions = _read_rows(text, _line_offset(text, layout.header_line), layout, check)
    statement.errors, statement.warnings = check.errors, check.warnings
    accounts = {t.account for t in statement.transactions}
    statement.account = layout.account or (accounts.pop() if len(accounts) == 1 else None)
    if not statement.rows:
        statement.file_error = file_message("NO_DATA_ROWS")


@gc_paused()  # a row makes a dozen objects that live on: see gc_paused
def _read_rows(text: str, start: int, layout: Layout, check: RowChecker) -> tuple[int, list[Transaction]]:
    """The data rows from offset `start` (the line after the header) on."""
    read_row, skip_row, width = layout.format.read_row, layout.format.skip_row, layout.width
    needed = layout.format.min_fields or width or 0
    reader = csv.reader(lines(text, start), delimiter=layout.delimiter)
    transactions: list[Transaction] = []
    rows = consumed = 0
    for cells in reader:
        row, consumed = layout.header_line + consumed + 1, reader.line_num  # a quoted field may span lines
        if not cells or not "".join(cells).strip() or (skip_row and skip_row(cells)):
            continue
        rows += 1
        if len(cells) < needed or (width and len(cells) > width and "".join(cells[width:]).strip()):
            check.error(row, "ROW_FIELDS", value=len(cells), expected=width or f"minst {needed}")
        elif (transaction := read_row(cells, layout, row, check)) is not None:
            transactions.append(transaction)
    return rows, transactions


def _line_offset(text: str, line: int) -> int:
    """Where the text after its first `line` lines begins (its length if it has fewer)."""
    offset = 0
    for _ in range(line):
        offset = text.find("\n", offset) + 1
        if not offset:
            return len(text)
    return offset


def _sha256(path: Path, data: bytes | None) -> str:
    if data is not None:
        return hashlib.sha256(data).hexdigest()
    with path.open("rb") as file:  # the file may be large: not read into memory just to refuse it
        return hashlib.file_digest(file, "sha256").hexdigest()

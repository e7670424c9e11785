"""Swedbank's CSV exports: the Swedish internet bank's, the company account's and the Baltic statement.

The Swedish exports (bank_formats.md §1.1) start with a preamble line
(``* Transaktioner Period …`` or ``* Transaktionsrapport Period …``), then a comma-separated
header; amounts are signed with a decimal point, three dates per row. Referens and Beskrivning
are used inconsistently (a merchant in one, a kind of payment in the other, or the same text
twice), so the description keeps both when they differ, as seed 004 §4.4 does for the Baltic
payer and details.

The Baltic statement (§1.2, seed 004 §3.2) is positional: its header is localised (English,
Latvian …) or absent, so it is recognised by its rows — field 2 a row type, field 8 D or K.
Only row type 20 is a transaction; 10, 82 and 86 are balances and turnover. Amounts are
unsigned and D (debit) is money out. The older Lithuanian variant is comma-separated with ISO
dates, decimal points and rows shorter than its header.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from connectors.banks.detect import Columns, Format, Layout, Matcher
from connectors.banks.transaction import Transaction
from connectors.banks.validation import RowChecker
from connectors.banks.values import is_iso_date, point_amount, unsigned_amount
from connectors.csv_files import normalise_header

_SWEDISH_FIELDS = (
    "row_number", "clearing", "account", "product", "currency", "booking_date",
    "transaction_date", "value_date", "reference", "description", "amount", "balance",
)


def _swedish_columns(*names: str) -> Columns:
    # Older exports stop before the balance column (beancountswedbank v0.2.0 checks 11 names).
    return Columns({field: (name,) for field, name in zip(_SWEDISH_FIELDS, names, strict=True)},
                   optional=frozenset({"balance"}))


PERSONAL = _swedish_columns(
    "Radnummer", "Clearingnummer", "Kontonummer", "Produkt", "Valuta", "Bokföringsdag",
    "Transaktionsdag", "Valutadag", "Referens", "Beskrivning", "Belopp", "Bokfört saldo",
)
COMPANY = _swedish_columns(
    "Radnr", "Clnr", "Kontonr", "Produkt", "Valuta", "Bokfdag", "Transdag", "Valutadag", "Referens", "Text",
    "Belopp", "Saldo",
)


def _read_swedish(cells: list[str], layout: Layout, row: int, check: RowChecker) -> Transaction | None:
    at = layout.columns
    mark = check.mark()
    booked = check.booking_date(cells[at["booking_date"]], row)
    transacted = check.other_date(cells[at["transaction_date"]], row)
    valued = check.other_date(cells[at["value_date"]], row)
    amount = check.amount(point_amount(cells[at["amount"]]), row)
    currency = check.currency(cells[at["currency"]], row)
    reference = cells[at["reference"]].strip() or None
    description = check.description(row, cells[at["description"]], reference)
    balance = check.balance(point_amount, cells[at["balance"]], row) if "balance" in at else None
    if check.failed_since(mark):
        return None
    clearing, number = cells[at["clearing"]].strip(), cells[at["account"]].strip()
    account = f"{clearing}-{number}" if clearing and number else number or None
    return Transaction(row, booked, transacted, valued, amount, currency, description, None, reference, balance,
                       account, "booked")


# The Baltic statement's positions, the same in every variant (Swedbank's "CSV statement file format").
BALTIC: Mapping[str, int] = {
    "account": 0, "row_type": 1, "date": 2, "counterparty": 3, "details": 4, "amount": 5, "currency": 6,
    "direction": 7, "archive_code": 8,
}
_MIN_FIELDS = BALTIC["direction"] + 1  # the archive code and the fields after it may be missing
_ROW_TYPES = frozenset({"10", "20", "82", "86"})
_NOT_TRANSACTIONS = frozenset({"10", "82", "86"})  # opening balance, turnover, closing balance
_TRANSACTION = "20"
_DIRECTIONS = frozenset({"D", "K"})


def _baltic_header(*names: str) -> Matcher:
    wanted = [normalise_header(name) for name in names]

    def match(cells: list[str]) -> Mapping[str, int] | None:
        return BALTIC if [normalise_header(cell) for cell in cells[: len(wanted)]] == wanted else None

    return match


def _baltic_rows(iso_dates: bool) -> Matcher:
    def match(cells: list[str]) -> Mapping[str, int] | None:
        if (
            len(cells) >= _MIN_FIELDS
            and cells[BALTIC["row_type"]].strip() in _ROW_TYPES
            and cells[BALTIC["direction"]].strip().upper() in _DIRECTIONS
            and is_iso_date(cells[BALTIC["date"]]) == iso_dates
        ):
            return BALTIC
        return None

    return match


def _not_a_transaction(cells: list[str]) -> bool:
    return len(cells) > BALTIC["row_type"] and cells[BALTIC["row_type"]].strip() in _NOT_TRANSACTIONS


def _read_baltic(cells: list[str], layout: Layout, row: int, check: RowChecker) -> Transaction | None:
    at = layout.columns
    mark = check.mark()
    if (row_type := cells[at["row_type"]].strip()) != _TRANSACTION:
        check.error(row, "ROW_TYPE_UNKNOWN", value=row_type)
    booked = check.booking_date(cells[at["date"]], row)
    amount = unsigned_amount(cells[at["amount"]])
    direction = cells[at["direction"]].strip().upper()
    if direction not in _DIRECTIONS:
        check.error(row, "DIRECTION_INVALID", value=cells[at["direction"]].strip())
    elif direction == "D" and amount:
        amount = -amount
    amount = check.amount(amount, row)
    currency = check.currency(cells[at["currency"]], row)
    counterparty = cells[at["counterparty"]].strip() or None
    description = check.description(row, cells[at["details"]], counterparty)
    if check.failed_since(mark):
        return None
    archive_code = (cells[at["archive_code"]].strip() or None) if len(cells) > at["archive_code"] else None
    return Transaction(row, booked, None, None, amount, currency, description, counterparty, archive_code, None,
                       cells[at["account"]].strip() or None, "booked")


FORMATS: list[Format] = [
    Format(
        "swedbank-se", "swedbank", "* Transaktioner Period …, sedan " + PERSONAL.expected(","),
        PERSONAL.match, _read_swedish, preamble=re.compile(r"\* Transaktioner Period"),
    ),
    Format(
        "swedbank-company", "swedbank", "* Transaktionsrapport Period …, sedan " + COMPANY.expected(","),
        COMPANY.match, _read_swedish, preamble=re.compile(r"\* Transaktionsrapport Period"),
    ),
    Format(
        "swedbank-baltic", "swedbank",
        '"Client account";"Row type";"Date";"Beneficiary/Payer";"Details";"Amount";"Currency";"Debit/Credit";… '
        "(eller utan radhuvud: radtyp 10/20/82/86 i fält 2, D/K i fält 8)",
        _baltic_header("Client account", "Row type", "Date", "Beneficiary/Payer", "Details", "Amount", "Currency",
                       "Debit/Credit"),
        _read_baltic, match_row=_baltic_rows(iso_dates=False), skip_row=_not_a_transaction,
        min_fields=_MIN_FIELDS,
    ),
    Format(
        "swedbank-baltic-lt", "swedbank",
        '"Account No","","Date","Beneficiary","Details","Amount","Currency","D/K",… (datum ÅÅÅÅ-MM-DD)',
        _baltic_header("Account No", "", "Date", "Beneficiary", "Details", "Amount", "Currency", "D/K"),
        _read_baltic, match_row=_baltic_rows(iso_dates=True), skip_row=_not_a_transaction,
        min_fields=_MIN_FIELDS,
    ),
]

"""ICA-banken's CSV exports (bank_formats.md §2), and the layout seed 004 §3.1 expected.

The real export is ``Datum;Text;Typ;Budgetgrupp;Belopp;Saldo`` (2018–2023) or, newer, the same
without Budgetgrupp; UTF-8 with a BOM, ``;`` without quoting, amounts like ``-1 079,40 kr``,
up to three preamble lines before the header (account number, period start, period end).
Text is padded with spaces to a fixed width. Rows of type ``Reserverat belopp`` are card
authorisations not yet booked: they have no balance, and the bank books them later under another
text and date, so they are kept as pending, never as booked. The seed's guessed
``Datum;Belopp;Beskrivning;Saldo`` (with an optional Motpart) is read too.
"""

from __future__ import annotations

import re

from connectors.banks.detect import Columns, Format, Layout
from connectors.banks.transaction import Transaction
from connectors.banks.validation import RowChecker
from connectors.banks.values import swedish_amount

CURRENCY = "SEK"  # the export has no currency column; ICA-banken accounts are in kronor
PENDING_TYPE = "reserverat belopp"  # compared case-insensitively: "Reserverat Belopp" occurs too

WITH_BUDGET_GROUP = Columns({
    "date": ("Datum",), "text": ("Text",), "type": ("Typ",), "budget_group": ("Budgetgrupp",),
    "amount": ("Belopp",), "balance": ("Saldo",),
})
WITHOUT_BUDGET_GROUP = Columns({key: names for key, names in WITH_BUDGET_GROUP.names.items() if key != "budget_group"})
SEED = Columns(
    {"date": ("Datum",), "amount": ("Belopp",), "text": ("Beskrivning", "Text"), "balance": ("Saldo",),
     "counterparty": ("Motpart",)},
    optional=frozenset({"balance", "counterparty"}),
)
# The account number ICA writes above the header (9270-9279 is ICA-banken's clearing range).
ACCOUNT_LINE = re.compile(r"(?P<account>\d{4}-\d{3} \d{3} \d)(?!\d)")


def _read(cells: list[str], layout: Layout, row: int, check: RowChecker) -> Transaction | None:
    at = layout.columns
    mark = check.mark()
    booked = check.booking_date(cells[at["date"]], row)
    amount = check.amount(swedish_amount(cells[at["amount"]]), row)
    counterparty = (cells[at["counterparty"]].strip() or None) if "counterparty" in at else None
    # Seed §4.2: the counterparty stands in for a missing description; it is not joined to it.
    description = check.description(row, cells[at["text"]].strip() or counterparty or "")
    balance = check.balance(swedish_amount, cells[at["balance"]], row) if "balance" in at else None
    if check.failed_since(mark):
        return None
    pending = "type" in at and cells[at["type"]].strip().casefold() == PENDING_TYPE
    if pending:
        check.warning(row, "PENDING")
    return Transaction(row, booked, None, None, amount, CURRENCY, description, counterparty, None, balance,
                       layout.account, "pending" if pending else "booked")


FORMATS: list[Format] = [
    Format("ica-6col", "ica", WITH_BUDGET_GROUP.expected(";"), WITH_BUDGET_GROUP.match, _read, preamble=ACCOUNT_LINE),
    Format("ica-5col", "ica", WITHOUT_BUDGET_GROUP.expected(";"), WITHOUT_BUDGET_GROUP.match, _read,
           preamble=ACCOUNT_LINE),
    Format("ica-seed", "ica", SEED.expected(";"), SEED.match, _read, preamble=ACCOUNT_LINE),
]

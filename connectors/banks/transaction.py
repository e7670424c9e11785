"""One bank-statement row that parsed and passed the row rules, in the bank's own terms."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

Status = Literal["booked", "pending"]


@dataclass(frozen=True, slots=True)
class Transaction:
    """A booked row, or a pending one (ICA-banken's ``Reserverat belopp``).

    Pending rows are kept apart by `status` because the bank books them later under another
    text and date (bank_formats.md §2.2): importing them as booked would count every card
    purchase twice, and they cannot be matched to their booked row."""

    row: int  # the file's line number
    booking_date: date
    transaction_date: date | None
    value_date: date | None
    amount: Decimal  # signed: negative is money out
    currency: str
    description: str
    counterparty: str | None
    reference: str | None
    balance: Decimal | None  # the account balance after this row, where the bank writes one
    account: str | None
    status: Status

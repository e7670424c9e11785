"""The general ledger: chart of accounts, VAT codes and journal entries (seed 003 §2.2).

A journal entry is double-entry bookkeeping: it cannot exist unbalanced, so the model
refuses one instead of carrying an ``is_balanced=False`` flag for someone to overlook.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from pydantic import Field, model_validator

from models.types import CanonicalModel, Money, Quantity


class Account(CanonicalModel):
    """Seed 003 §2.2 ChartOfAccounts: postings name an account by its number, so the number is the key."""

    account_number: str = Field(min_length=1)
    name: str = Field(min_length=1)
    account_type: Literal["asset", "liability", "equity", "revenue", "expense"]
    is_bank_account: bool
    is_active: bool
    balance: Money | None = None
    vat_code: str | None = None


class VATCode(CanonicalModel):
    """Seed 003 §2.2 VATCode: ties a rate to the account its VAT is booked on."""

    code: str = Field(min_length=1)
    name: str = Field(min_length=1)
    rate: Quantity = Field(ge=0, le=100)
    vat_type: Literal["sales", "purchase", "eu_goods", "eu_services", "reverse_charge", "exempt", "zero"]
    account_number: str = Field(min_length=1)
    is_default: bool
    is_active: bool


class JournalLine(CanonicalModel):
    """Seed 003 §2.2 JournalEntry.lines: one side of one account, never both."""

    line_number: int = Field(ge=1)
    account_number: str = Field(min_length=1)
    debit: Money = Field(default=Decimal("0.00"), ge=0)
    credit: Money = Field(default=Decimal("0.00"), ge=0)
    vat_code: str | None = None
    vat_amount: Money | None = None
    description: str | None = None
    customer_number: str | None = None
    supplier_number: str | None = None

    @model_validator(mode="after")
    def _one_side(self) -> JournalLine:
        if (self.debit != 0) == (self.credit != 0):
            raise ValueError(
                f"journal line {self.line_number}: exactly one of debit {self.debit} "
                f"and credit {self.credit} must be non-zero"
            )
        return self


class JournalEntry(CanonicalModel):
    """Seed 003 §2.2 JournalEntry: the voucher every invoice, payment and bank line ends up as."""

    entry_number: str = Field(min_length=1)
    journal: str | None = None  # voucher series (Fortnox "VoucherSeries")
    entry_date: dt.date
    posting_date: dt.date
    description: str = Field(min_length=1)
    source_type: Literal["invoice", "payment", "manual", "bank", "adjustment"]
    source_reference: str | None = None
    lines: list[JournalLine] = Field(min_length=2)
    total_debit: Money
    total_credit: Money
    is_locked: bool

    @model_validator(mode="after")
    def _sums_and_balances(self) -> JournalEntry:
        debit = sum((line.debit for line in self.lines), Decimal("0.00"))
        credit = sum((line.credit for line in self.lines), Decimal("0.00"))
        if self.total_debit != debit:
            raise ValueError(
                f"INT-01-DQ-004: journal entry {self.entry_number} total_debit {self.total_debit} "
                f"!= sum of line debits {debit}"
            )
        if self.total_credit != credit:
            raise ValueError(
                f"INT-01-DQ-004: journal entry {self.entry_number} total_credit {self.total_credit} "
                f"!= sum of line credits {credit}"
            )
        if debit != credit:
            raise ValueError(
                f"INT-01-DQ-004: journal entry {self.entry_number} is unbalanced: "
                f"debit {debit} != credit {credit}"
            )
        return self

    @property
    def is_balanced(self) -> bool:
        """Derived, never read from input: a stored flag could contradict the lines."""
        return self.total_debit == self.total_credit

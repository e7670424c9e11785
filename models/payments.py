"""Payments against invoices (seed 003 §2.2) and bank transactions from CSV exports (seed 004)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, computed_field, model_validator

from models.types import BIGINT_MAX, CanonicalModel, Currency, Money, Quantity


class PaymentAllocation(CanonicalModel):
    """Seed 003 §2.2 Payment.allocations: which invoice a part of the payment settles."""

    invoice_number: str = Field(min_length=1)
    amount: Money = Field(gt=0)


class Payment(CanonicalModel):
    """Seed 003 §2.2 Payment; an unallocated remainder is allowed, over-allocation is not."""

    payment_number: str | None = None
    type: Literal["incoming", "outgoing"]
    status: Literal["pending", "completed", "failed", "refunded"]
    amount: Money = Field(gt=0)
    currency: Currency
    exchange_rate: Annotated[Quantity, Field(gt=0)] | None = None  # to the company's base currency
    payment_date: dt.date
    payment_method: Literal["bank_transfer", "bankgiro", "plusgiro", "swish", "mobilepay", "card", "cash", "other"]
    bank_account: str | None = None
    bank_reference: str | None = None
    allocations: list[PaymentAllocation] = Field(default_factory=list)

    @model_validator(mode="after")
    def _allocations_within_amount(self) -> Payment:
        allocated = sum((a.amount for a in self.allocations), Decimal("0.00"))
        if allocated > self.amount:
            raise ValueError(
                f"INT-01-DQ-004: payment allocations {allocated} exceed the payment amount {self.amount}"
            )
        return self


class BankTransaction(CanonicalModel):
    """Seed 004 §3-4: one booked or pending row of an ICA-banken or Swedbank statement."""

    account: str = Field(min_length=1)
    booking_date: dt.date
    transaction_date: dt.date | None = None
    value_date: dt.date | None = None
    amount: Money  # signed: negative out of the account, positive into it
    currency: Currency
    description: str = Field(min_length=1, max_length=500)  # seed 004 §5.2.4
    counterparty: str | None = None
    reference: str | None = None
    balance: Money | None = None
    bank: Literal["ica", "swedbank", "other"]
    status: Literal["booked", "pending"]
    source_file: str | None = None  # where the row came from, for a person tracing it back (seed 004 §6.4)
    source_row: int | None = Field(None, ge=1, le=BIGINT_MAX)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def is_income(self) -> bool:
        """Seed 004 §5.3: income and expense are told apart by the sign; zero counts as neither."""
        return self.amount > 0

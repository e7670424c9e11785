"""The INT-01 logical model (seed 000 "Logisk informationsmodell") sent to Raindance.

Class names are the seed's, so a reader can hold the model against the requirement; field
names are English snake_case like the rest of the project. Required attributes
(INT-01-DQ-001) have no defaults, and the amounts must add up (INT-01-DQ-004) with the
same rules and tolerances as ``models.invoices``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from pydantic import Field, model_validator

from models.invoices import Posting, check_line_amounts, check_postings, check_vat_sum
from models.parties import Address, Email
from models.types import CanonicalModel, Currency, Money, Quantity


class Kund(CanonicalModel):
    """Seed 000 Kund: contact details are mandatory because Raindance sends the invoice itself."""

    customer_id: str = Field(min_length=1)
    customer_type: Literal["private", "company", "organisation"]
    name: str = Field(min_length=1)
    address: Address
    email: Email
    phone: str = Field(min_length=1)
    # Often a personnummer, so kept out of repr and thereby out of logs (seed 000, GDPR).
    org_or_personal_number: str | None = Field(default=None, repr=False)
    billing_address: Address | None = None
    payment_terms: str | None = None
    reference_person: str | None = None


class Konteringsrad(Posting):
    """Seed 000 Konteringsrad: a Posting that Raindance requires a cost centre on."""

    posting_id: str = Field(min_length=1)
    invoice_row_id: str = Field(min_length=1)
    cost_centre: str = Field(min_length=1)


class Fakturarad(CanonicalModel):
    """Seed 000 Fakturarad: its postings must carry exactly its net amount into the ledger."""

    row_id: str = Field(min_length=1)
    invoice_id: str = Field(min_length=1)
    description: str = Field(min_length=1)
    quantity: Quantity
    unit_price: Money
    total_excl_vat: Money
    vat_rate: Quantity = Field(ge=0, le=100)
    vat_amount: Money
    article_number: str | None = None
    unit: str | None = None
    period_from: dt.date | None = None
    period_to: dt.date | None = None
    object_reference: str | None = None
    postings: list[Konteringsrad] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Fakturarad:
        label = f"Fakturarad {self.row_id}"
        if self.period_from and self.period_to and self.period_to < self.period_from:
            raise ValueError(f"{label}: period_to {self.period_to} is before period_from {self.period_from}")
        for posting in self.postings:
            if posting.invoice_row_id != self.row_id:
                raise ValueError(
                    f"{label}: Konteringsrad {posting.posting_id} refers to row {posting.invoice_row_id}"
                )
        check_line_amounts(
            label,
            quantity=self.quantity,
            unit_price=self.unit_price,
            discount_percent=Decimal("0"),
            net=self.total_excl_vat,
            vat_rate=self.vat_rate,
            vat_amount=self.vat_amount,
        )
        check_postings(label, self.postings, self.total_excl_vat)
        return self


class Faktura(CanonicalModel):
    """Seed 000 Faktura: the header Raindance books; its total must follow from its rows."""

    invoice_id: str = Field(min_length=1)
    customer_id: str = Field(min_length=1)
    invoice_date: dt.date
    due_date: dt.date
    total_incl_vat: Money
    vat_amount: Money
    rounding: Money = Field(default=Decimal("0.00"), gt=-1, lt=1)  # öresavrundning
    currency: Currency
    status: Literal["draft", "approved", "sent", "paid"]
    reference: str | None = None
    ocr: str | None = None
    payment_reference: str | None = None
    notes: str | None = None
    rows: list[Fakturarad] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Faktura:
        label = f"Faktura {self.invoice_id}"
        row_ids = [row.row_id for row in self.rows]
        if len(set(row_ids)) != len(row_ids):
            raise ValueError(f"{label}: row ids must be unique within the invoice, got {row_ids}")
        for row in self.rows:
            if row.invoice_id != self.invoice_id:
                raise ValueError(f"{label}: Fakturarad {row.row_id} refers to invoice {row.invoice_id}")
        check_vat_sum(label, self.vat_amount, [row.vat_amount for row in self.rows])
        net = sum((row.total_excl_vat for row in self.rows), Decimal("0.00"))
        if self.total_incl_vat != net + self.vat_amount + self.rounding:
            raise ValueError(
                f"INT-01-DQ-004: {label} total_incl_vat {self.total_incl_vat} != rows excl. vat {net} "
                f"+ vat {self.vat_amount} + rounding {self.rounding}"
            )
        return self

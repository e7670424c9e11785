"""Sales invoices, credit notes and Fortnox supplier invoices, with the INT-01-DQ-004 sum rules.

INT-01-DQ-004 (seed 000) says amounts must add up, row to invoice and posting to row.
A line's net amount is quantity × unit price less discount, rounded half-up to öre, as
the printed invoice shows it. VAT is computed per line and may differ from the exact
product by at most one öre; the header VAT may in turn differ from the sum of the line
VAT by one öre per line, because some systems compute VAT on the invoice total instead.
Any rounding of the payable total (öresavrundning) must be stated in ``rounding``, never
hidden in the total. The checks are shared with the Raindance model (``models.raindance``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Literal

from pydantic import Field, model_validator

from models.parties import Address
from models.types import TWO_PLACES, CanonicalModel, Currency, Money, Quantity

ONE_ORE = Decimal("0.01")


def net_amount(quantity: Decimal, unit_price: Decimal, discount_percent: Decimal) -> Decimal:
    """Half-up, because that is how Swedish and Danish invoices round a line to öre."""
    exact = quantity * unit_price * (1 - discount_percent / 100)
    return exact.quantize(TWO_PLACES, rounding=ROUND_HALF_UP)


def check_line_amounts(
    label: str,
    *,
    quantity: Decimal,
    unit_price: Decimal,
    discount_percent: Decimal,
    net: Decimal,
    vat_rate: Decimal,
    vat_amount: Decimal,
) -> None:
    """Shared by InvoiceLine and Fakturarad so that both round and tolerate alike."""
    expected = net_amount(quantity, unit_price, discount_percent)
    if net != expected:
        discount = f" less {discount_percent}%" if discount_percent else ""
        raise ValueError(
            f"INT-01-DQ-004: {label} net amount {net} != quantity {quantity} × unit price "
            f"{unit_price}{discount} = {expected}"
        )
    exact_vat = net * vat_rate / 100
    if abs(vat_amount - exact_vat) > ONE_ORE:
        raise ValueError(
            f"INT-01-DQ-004: {label} vat {vat_amount} differs from net {net} × {vat_rate}% "
            f"= {exact_vat} by more than {ONE_ORE}"
        )


def check_postings(label: str, postings: Sequence[Posting], net: Decimal) -> None:
    """Exact: a posting off by one öre would leave the ledger unbalanced."""
    posted = sum((posting.amount for posting in postings), Decimal("0.00"))
    if posted != net:
        raise ValueError(f"INT-01-DQ-004: {label} postings sum to {posted}, not the net amount {net}")


def check_vat_sum(label: str, vat_amount: Decimal, line_vats: Sequence[Decimal]) -> None:
    """One öre per line, because systems that compute VAT on the total drift that much at most."""
    line_sum = sum(line_vats, Decimal("0.00"))
    tolerance = ONE_ORE * len(line_vats)
    if abs(vat_amount - line_sum) > tolerance:
        raise ValueError(
            f"INT-01-DQ-004: {label} vat {vat_amount} differs from the sum of line vat {line_sum} "
            f"by more than {tolerance} (0.01 per line)"
        )


class Posting(CanonicalModel):
    """Seed 000 Konteringsrad: how a line's net amount is spread over accounts and dimensions."""

    account: str = Field(min_length=1)
    amount: Money
    cost_centre: str | None = None
    project: str | None = None
    activity: str | None = None
    dimension_1: str | None = None
    dimension_2: str | None = None
    dimension_3: str | None = None
    dimension_4: str | None = None
    dimension_5: str | None = None


class InvoiceLine(CanonicalModel):
    """Seed 003 §2.2 Invoice.lines; each line must add up on its own so a bad one is named."""

    line_number: int = Field(ge=1)
    product_number: str | None = None
    description: str = Field(min_length=1)
    quantity: Quantity
    unit_price: Money
    discount_percent: Quantity = Field(default=Decimal("0"), ge=0, le=100)
    vat_code: str | None = None
    vat_rate: Quantity = Field(ge=0, le=100)
    account_number: str | None = None
    line_total: Money
    vat_amount: Money
    postings: list[Posting] = Field(default_factory=list)

    @model_validator(mode="after")
    def _amounts_sum(self) -> InvoiceLine:
        label = f"invoice line {self.line_number}"
        check_line_amounts(
            label,
            quantity=self.quantity,
            unit_price=self.unit_price,
            discount_percent=self.discount_percent,
            net=self.line_total,
            vat_rate=self.vat_rate,
            vat_amount=self.vat_amount,
        )
        if self.postings:
            check_postings(label, self.postings, self.line_total)
        return self


class Invoice(CanonicalModel):
    """Seed 003 §2.2 Invoice: the one shape every source's sales invoice is checked in."""

    invoice_number: str = Field(min_length=1)
    type: Literal["invoice", "credit_note"] = "invoice"
    status: Literal["draft", "sent", "paid", "overdue", "cancelled", "voided"]
    customer_number: str = Field(min_length=1)
    customer_name: str = Field(min_length=1)
    customer_address: Address | None = None
    customer_vat_number: str | None = None
    invoice_date: dt.date
    due_date: dt.date
    currency: Currency
    exchange_rate: Annotated[Quantity, Field(gt=0)] | None = None  # to the company's base currency
    lines: list[InvoiceLine] = Field(min_length=1)
    subtotal: Money
    vat_amount: Money
    rounding: Money = Field(default=Decimal("0.00"), gt=-1, lt=1)  # öresavrundning
    total: Money
    amount_due: Money
    paid_amount: Money
    ocr: str | None = None
    reference: str | None = None
    notes: str | None = None

    @model_validator(mode="after")
    def _amounts_sum(self) -> Invoice:
        label = f"invoice {self.invoice_number}"
        line_sum = sum((line.line_total for line in self.lines), Decimal("0.00"))
        if self.subtotal != line_sum:
            raise ValueError(f"INT-01-DQ-004: {label} subtotal {self.subtotal} != sum of line totals {line_sum}")
        check_vat_sum(label, self.vat_amount, [line.vat_amount for line in self.lines])
        if self.total != self.subtotal + self.vat_amount + self.rounding:
            raise ValueError(
                f"INT-01-DQ-004: {label} total {self.total} != subtotal {self.subtotal} "
                f"+ vat {self.vat_amount} + rounding {self.rounding}"
            )
        if self.amount_due != self.total - self.paid_amount:
            raise ValueError(
                f"INT-01-DQ-004: {label} amount_due {self.amount_due} != total {self.total} "
                f"- paid_amount {self.paid_amount}"
            )
        return self


class CreditNote(Invoice):
    """Seed 003 §2.2 CreditNote: an Invoice whose type cannot be anything but credit_note."""

    type: Literal["credit_note"] = "credit_note"


class SupplierInvoiceRow(CanonicalModel):
    """Seed 002 §5.1 Fortnox SupplierInvoiceRows: the voucher rows (TOT, VAT, cost) of the invoice."""

    account: str = Field(min_length=1)
    code: str | None = None  # Fortnox row code: TOT, VAT, PRE, ...
    article_number: str | None = None
    description: str | None = None
    quantity: Quantity
    price: Money
    total: Money


class SupplierInvoice(CanonicalModel):
    """Seed 002 §5.1 Fortnox SupplierInvoice: what BC11 polls and validates against the project registry."""

    given_number: str = Field(min_length=1)
    invoice_number: str = Field(min_length=1)
    supplier_number: str = Field(min_length=1)
    supplier_name: str = Field(min_length=1)
    invoice_date: dt.date
    due_date: dt.date
    total: Money
    vat: Money
    currency: Currency
    ocr: str | None = None
    project: str | None = None
    comments: str | None = None
    # The list endpoint returns invoices without rows; only GET /3/supplierinvoices/{n} has them.
    rows: list[SupplierInvoiceRow] = Field(default_factory=list)

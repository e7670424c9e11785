"""Who the money moves between: the company itself, its customers, suppliers and employees.

Seed 003 §2.2 gives Company and Customer/Supplier. Surrogate ids, tenant and per-system
external ids are not fields here: the store adds them (``models.tables``), so the same
model validates a raw source record and a stored one. References to other entities use
their business keys (account number, VAT code), which is what the source systems send.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import pycountry
from pydantic import AfterValidator, AwareDatetime, Field, field_validator

from models.types import CanonicalModel, Currency


def _iso3166(value: str) -> str:
    code = value.upper()
    if pycountry.countries.get(alpha_2=code) is None:
        raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 country code")
    return code


CountryCode = Annotated[str, AfterValidator(_iso3166)]
"""ISO 3166-1 alpha-2, upper case."""

Email = Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
"""An e-mail address, checked only for shape: deliverability is the mail server's business."""


class Address(CanonicalModel):
    """Seed 003 §2.2 address block; the country defaults to Sweden, where most records come from."""

    street: str = Field(min_length=1)
    city: str = Field(min_length=1)
    postal_code: str = Field(min_length=1)
    country: CountryCode = "SE"


class BankAccount(CanonicalModel):
    """Seed 003 §2.2 Company.bankAccount: where customers pay, printed on every invoice."""

    clearing_number: str = Field(pattern=r"^\d{4,5}$")
    account_number: str = Field(pattern=r"^\d{1,15}$")
    iban: str | None = Field(default=None, pattern=r"^[A-Z]{2}\d{2}[A-Z0-9]{10,30}$")


class Company(CanonicalModel):
    """Seed 003 §2.2 Company: the bookkeeping entity whose fiscal year and VAT period the rest follow."""

    name: str = Field(min_length=1)
    registration_number: str = Field(min_length=1)  # organisationsnummer (SE), CVR (DK)
    vat_number: str | None = None
    address: Address
    email: Email
    phone: str | None = None
    bank_account: BankAccount | None = None
    fiscal_year_start: str = Field(pattern=r"^\d{2}-\d{2}$")  # MM-DD
    base_currency: Currency
    vat_period: Literal["monthly", "quarterly", "yearly"]

    @field_validator("fiscal_year_start")
    @classmethod
    def _is_a_day_of_the_year(cls, value: str) -> str:
        month, day = (int(part) for part in value.split("-"))
        try:
            dt.date(2001, month, day)  # a non-leap year: a fiscal year cannot start on 29 February
        except ValueError:
            raise ValueError(f"fiscal year start {value} is not a day of the year") from None
        return value


class GdprConsent(CanonicalModel):
    """Seed 003 §2.2 Customer.gdprConsent: marketing to a person needs a recorded consent."""

    marketing: bool
    consent_date: AwareDatetime | None = None


class Party(CanonicalModel):
    """Seed 003 §2.2 Customer / Supplier: one shape, so both sides of a trade map the same way."""

    name: str = Field(min_length=1)
    registration_number: str | None = None
    vat_number: str | None = None
    email: Email | None = None
    phone: str | None = None
    address: Address | None = None
    payment_terms_days: int = Field(ge=0)
    default_account_number: str | None = None
    default_vat_code: str | None = None
    currency: Currency
    is_active: bool
    gdpr_consent: GdprConsent | None = None


class Customer(Party):
    """Seed 003 §2.2 Customer; the customer number is the key invoices refer to."""

    customer_number: str = Field(min_length=1)


class Supplier(Party):
    """Seed 003 §2.2 Supplier; the supplier number is the key supplier invoices refer to (seed 002 §5.1)."""

    supplier_number: str = Field(min_length=1)


class Employee(CanonicalModel):
    """Seed 001 §6 "Anställda": exported to Fortnox and Visma Payroll."""

    employee_number: str = Field(min_length=1)
    name: str = Field(min_length=1)
    email: Email | None = None
    phone: str | None = None
    # Kept out of repr so it never lands in a log (seed 000: personnummer is GDPR-sensitive).
    personal_number: str | None = Field(default=None, repr=False)
    is_active: bool

"""What the supplier-invoice validation (seed 002, BC11) finds in a PDF and decides about it.

These are the contracts between its steps: the PDF reader and Claude both produce
`ExtractedFields`, the matcher turns them into ranked `Candidate`s, the checks add `Check`s,
and an `Analysis` carries all of it with the confidence and its `Band`. Field names are
snake_case on the wire too: `ledgerflow invoice analyze --json` prints them as they are.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from models.types import Currency, Money


class Contract(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


HintKind = Literal["project_number", "project_name", "work_order", "reference", "address", "free_text"]


class ProjectHint(Contract):
    """One thing on the page that may point at a project, and where it was found."""

    kind: HintKind
    value: str
    label: str | None = None  # the printed label it followed, e.g. "Projekt", "Er referens"


class VatLine(Contract):
    rate: Decimal  # percent: 25, 12, 6, 0
    net: Money | None = None
    vat: Money


class ExtractedLine(Contract):
    description: str
    quantity: Decimal | None = None
    unit: str | None = None
    unit_price: Money | None = None
    amount: Money
    section: str | None = None  # a heading printed above the row in the table, e.g. "Märkning: 1313 Stender VB 1966"


class ExtractedFields(Contract):
    """Every field seed 002 asks for; None when the document does not show it."""

    invoice_number: str | None = None
    invoice_date: dt.date | None = None
    due_date: dt.date | None = None
    total: Money | None = None
    net: Money | None = None
    vat_amount: Money | None = None
    vat_lines: list[VatLine] = Field(default_factory=list)
    currency: Currency | None = None
    ocr: str | None = None  # OCR payment reference, check digit validated
    bankgiro: str | None = None  # NNN-NNNN / NNNN-NNNN, check digit validated
    plusgiro: str | None = None
    iban: str | None = None
    supplier_name: str | None = None
    supplier_org_nr: str | None = None  # NNNNNN-NNNN
    supplier_vat_number: str | None = None  # SE...01
    buyer_name: str | None = None
    buyer_org_nr: str | None = None
    invoice_address: list[str] = Field(default_factory=list)  # the buyer's address as printed
    delivery_address: str | None = None  # work site / leveransadress
    reference: str | None = None  # buyer's reference: "Er referens" / "Referens"
    our_reference: str | None = None  # supplier's "Vår referens"
    reverse_charge: bool = False  # "Omvänd betalningsskyldighet" printed
    lines: list[ExtractedLine] = Field(default_factory=list)
    project_hints: list[ProjectHint] = Field(default_factory=list)


DocumentProblemCode = Literal[
    "no_document", "encrypted", "corrupt", "no_pages", "too_many_pages", "image_only", "no_text"
]
NOT_READABLE: frozenset[DocumentProblemCode] = frozenset({"no_document", "encrypted", "corrupt", "no_pages"})
"""Problems no reader gets past."""
NO_TEXT: frozenset[DocumentProblemCode] = frozenset({"image_only", "no_text"})
"""Problems the rule-based reader does not get past (it reads a text layer), but Claude may: it reads the page."""


class DocumentProblem(Contract):
    """Why a PDF could not be read (fully). The invoice is flagged with it; the run goes on."""

    code: DocumentProblemCode
    message: str  # Swedish, for the reviewer


class Extraction(Contract):
    sha256: str
    pages: int
    method: Literal["rules", "claude", "rules+claude"]
    fields: ExtractedFields
    problems: list[DocumentProblem] = Field(default_factory=list)


class Candidate(Contract):
    project_number: str
    project_name: str | None = None
    score: int = Field(ge=0, le=100)
    reasons: list[str] = Field(default_factory=list)  # Swedish, e.g. "Projektnummer 1313 på fakturan"


class Check(Contract):
    code: str  # vat_rate, vat_sum, reverse_charge, invoice_address, rows_sum, due_date, ...
    ok: bool
    severity: Literal["error", "warning", "info"]
    message: str


class Band(StrEnum):
    """Seed 002 confidence bands."""

    AUTO_APPROVE = "auto_approve"  # >= 95: Project and Comments written to Fortnox
    SUGGESTION = "suggestion"  # 80-94: suggestion with a warning
    ALTERNATIVES = "alternatives"  # 60-79: list of alternatives
    MANUAL = "manual"  # < 60: manual handling

    @classmethod
    def of(cls, confidence: int) -> Band:
        if confidence >= 95:
            return cls.AUTO_APPROVE
        if confidence >= 80:
            return cls.SUGGESTION
        if confidence >= 60:
            return cls.ALTERNATIVES
        return cls.MANUAL


class Analysis(Contract):
    """Steps 3-6 for one document: what `invoice analyze` prints and a review stores."""

    file: str
    extraction: Extraction
    candidates: list[Candidate] = Field(default_factory=list)  # best first
    checks: list[Check] = Field(default_factory=list)
    confidence: int = Field(ge=0, le=100)
    band: Band

    @property
    def project(self) -> str | None:
        return self.candidates[0].project_number if self.candidates else None


ReviewStatus = Literal["auto_approved", "pending", "approved", "rejected", "waiting", "closed"]
"""`closed`: settled in Fortnox while on the reviewer's list (booked, cancelled, project set there)."""


class Buyer(Contract):
    """Our company as suppliers must invoice it (checked on every invoice) and as it signs what we
    write to them (complaints, the invoicing guidelines). One definition, so the check and the
    letter never disagree about the invoice address. The flow builds it from settings."""

    name: str = Field(min_length=1)
    org_nr: str = Field(min_length=1)  # NNNNNN-NNNN
    vat_number: str | None = None  # SE + the org.nr's ten digits + 01 when not given
    invoice_address: tuple[str, ...] = ()  # postal lines under the name: ("Box 123", "753 23 Uppsala")
    invoice_email: str | None = None  # where PDF invoices go
    peppol_id: str | None = None  # e-invoice address, e.g. "0007:5591381240"
    payment_terms_days: int = Field(30, ge=0)
    contact_name: str | None = None
    contact_email: str | None = None
    contact_phone: str | None = None

    @property
    def vat(self) -> str:
        digits = "".join(c for c in self.org_nr if c.isdigit())
        return (self.vat_number or f"SE{digits}01").replace(" ", "").upper()

    @property
    def address_line(self) -> str:
        return ", ".join((self.name, *self.invoice_address))

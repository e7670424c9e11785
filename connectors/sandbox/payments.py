"""Invoices and the bank transactions that pay them, with the answers known: the test bed of payment matching.

A matcher can only be measured on data whose truth is known, and bank exports never say which
invoice a transfer paid. So the sandbox company's customer invoices (Fortnox OCR numbers),
supplier invoices (the supplier's own OCR) and its bank account are generated together, in
*rounds*. Every round holds each kind of case once (`CASES`): payments with the OCR in the
reference column or inside the text, a mistyped OCR, an ICA-style row without one, a partial
payment, one paid in two parts, an over-payment, one transfer paying two invoices, two open
invoices of the same amount and a transfer that could pay either, salary and card rows that
pay no invoice, supplier payments with and without OCR, and invoices nobody paid.

Every amount is drawn once from one pool, so no two cases share an amount unless the case is
about exactly that; whatever a matcher finds beyond the answers is its own error. Totals are
five times a drawn integer of öre, so net 4/5 and VAT 1/5 (25 %) add up to them exactly.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal, TypeVar

import sqlalchemy as sa

from connectors.sandbox.bank import SUPPLIERS
from connectors.sandbox.fortnox.entities import luhn_digit, ocr_number
from connectors.sandbox.workcloud import CUSTOMERS, FIRST, LAST
from models.invoices import Invoice, InvoiceLine, SupplierInvoice
from models.payments import BankTransaction
from models.tables import ENTITIES

Case = Literal[
    "ocr_reference", "ocr_text", "ocr_bankgiro_text", "ocr_glued", "ocr_typo", "no_ocr", "partial",
    "partial_then_rest", "overpaid", "combined", "ambiguous", "unrelated", "unpaid", "supplier_ocr",
    "supplier_no_ocr", "supplier_ambiguous", "supplier_unpaid",
]
CASES: tuple[Case, ...] = (
    "ocr_reference",  # Swedbank: the OCR alone in the reference column
    "ocr_text",  # "Stender Fastigheter AB OCR 10000182"
    "ocr_bankgiro_text",  # "BG 5051-6905 OCR 10000182": the Bankgiro number is no OCR
    "ocr_glued",  # reference "OCR10000182"
    "ocr_typo",  # one digit wrong, so the Luhn check fails: only amount and date can tell
    "no_ocr",  # ICA-banken style "Insättning Uppsalahem AB"
    "partial",  # OCR, 1,000.00 short
    "partial_then_rest",  # OCR, all but 2,000.00, then 2,000.00 a few days later
    "overpaid",  # OCR, 250.00 too much
    "combined",  # one transfer for two invoices, both OCRs in the text
    "ambiguous",  # two open invoices of one amount, a transfer of that amount without OCR
    "unrelated",  # salary and a card purchase out, interest and a Swish in
    "unpaid",  # a customer invoice nobody paid
    "supplier_ocr",  # our payments of supplier invoices, OCR in the reference or the text
    "supplier_no_ocr",  # paid with the supplier's invoice number only
    "supplier_ambiguous",  # two supplier invoices of one amount, one payment without OCR
    "supplier_unpaid",
)
SHORT = Decimal("1000.00")  # what a partial payment leaves unpaid
REST = Decimal("2000.00")  # the second part of a payment in two parts
EXTRA = Decimal("250.00")  # what an over-payment pays too much
ACCOUNT = "8327-9 903 456 789-0"
OUR_BANKGIRO = "5051-6905"
T = TypeVar("T")
Bank = Literal["swedbank", "ica"]


@dataclass(frozen=True)
class Answer:
    """One invoice a transaction truly pays. `decidable` is False where the data cannot tell which
    of two open invoices of the same amount a transfer without reference paid."""

    transaction: str  # external id of the bank transaction
    invoice: str  # external id of the customer or supplier invoice
    case: Case
    decidable: bool = True


@dataclass(frozen=True)
class Score:
    """Precision and recall of a matcher's pairs against the answers."""

    found: int
    correct: int
    answers: int
    decidable: int
    correct_decidable: int

    @property
    def precision(self) -> float:
        """Of the pairs found, the share that are true; 1.0 when nothing was found (nothing wrong)."""
        return self.correct / self.found if self.found else 1.0

    @property
    def recall(self) -> float:
        """Of all true payments, the share found (the undecidable ones count as missed)."""
        return self.correct / self.answers if self.answers else 1.0

    @property
    def decidable_recall(self) -> float:
        """Of the payments the data can attribute, the share found."""
        return self.correct_decidable / self.decidable if self.decidable else 1.0


@dataclass(frozen=True)
class PaymentSet:
    """The generated records, as (external id, model) pairs ready for `models.upsert.upsert`, and the answers."""

    invoices: list[tuple[str, Invoice]]
    supplier_invoices: list[tuple[str, SupplierInvoice]]
    transactions: list[tuple[str, BankTransaction]]
    answers: list[Answer]
    cases: dict[str, Case]  # the case of every external id: invoices, supplier invoices and transactions

    def score(self, found: Iterable[tuple[str, str]]) -> Score:
        """Score the (transaction, invoice) pairs a matcher found, by external id (`external_ids`)."""
        pairs = set(found)
        truth = {(a.transaction, a.invoice) for a in self.answers}
        decidable = {(a.transaction, a.invoice) for a in self.answers if a.decidable}
        return Score(len(pairs), len(pairs & truth), len(truth), len(decidable), len(pairs & decidable))


@dataclass
class _Builder:
    """Collects the records of all rounds; every record gets the next external id of its kind."""

    rng: random.Random
    invoices: list[tuple[str, Invoice]] = field(default_factory=list)
    supplier_invoices: list[tuple[str, SupplierInvoice]] = field(default_factory=list)
    transactions: list[tuple[str, BankTransaction]] = field(default_factory=list)
    answers: list[Answer] = field(default_factory=list)
    cases: dict[str, Case] = field(default_factory=dict)
    drawn: set[int] = field(default_factory=set)

    def amount(self, low: int, high: int) -> int:
        """An amount in öre, five times a number from [low, high) that was never drawn before."""
        while True:
            units = self.rng.randrange(low, high)
            if units not in self.drawn:
                self.drawn.add(units)
                return 5 * units

    def invoice(self, case: Case, day: dt.date, total: int | None = None) -> tuple[str, Invoice]:
        """Our invoice on `day`, 30 days net, 25 % VAT, with its Fortnox OCR; 5,000 - 200,000 kr unless `total`."""
        total = total if total is not None else self.amount(1_000_00, 40_000_00)
        net, vat = _money(total * 4 // 5), _money(total // 5)
        number = str(100_001 + len(self.invoices))
        customer = self.rng.randrange(len(CUSTOMERS))
        line = InvoiceLine(line_number=1, description="Byggarbeten enligt avtal", quantity=Decimal(1), unit_price=net,
                           vat_rate=Decimal(25), line_total=net, vat_amount=vat)
        invoice = Invoice(
            invoice_number=number, status="sent", customer_number=str(1001 + customer),
            customer_name=CUSTOMERS[customer], invoice_date=day, due_date=day + dt.timedelta(days=30),
            currency="SEK", lines=[line], subtotal=net, vat_amount=vat, total=_money(total),
            amount_due=_money(total), paid_amount=Decimal("0.00"), ocr=ocr_number(number),
        )
        return self._keep(self.invoices, f"inv-{len(self.invoices) + 1:06d}", invoice, case)

    def supplier_invoice(self, case: Case, day: dt.date, total: int | None = None) -> tuple[str, SupplierInvoice]:
        """A supplier's invoice on `day`, 30 days net, with the supplier's own OCR; 500 - 100,000 kr unless `total`."""
        total = total if total is not None else self.amount(100_00, 20_000_00)
        number = len(self.supplier_invoices) + 1
        payload = str(self.rng.randrange(10**8, 10**11))
        invoice = SupplierInvoice(
            given_number=str(number), invoice_number=str(40_000 + number),
            supplier_number=str(self.rng.randrange(1, 500)), supplier_name=self.rng.choice(SUPPLIERS),
            invoice_date=day, due_date=day + dt.timedelta(days=30), total=_money(total), vat=_money(total // 5),
            currency="SEK", ocr=payload + luhn_digit(payload),
        )
        return self._keep(self.supplier_invoices, f"sup-{number:06d}", invoice, case)

    def transaction(self, case: Case, day: dt.date, amount: Decimal, description: str, *, reference: str | None = None,
                    counterparty: str | None = None, bank: Bank = "swedbank") -> str:
        transaction = BankTransaction(account=ACCOUNT, booking_date=day, amount=amount, currency="SEK",
                                      description=description, reference=reference, counterparty=counterparty,
                                      bank=bank, status="booked")
        return self._keep(self.transactions, f"tx-{len(self.transactions) + 1:06d}", transaction, case)[0]

    def pays(self, case: Case, day: dt.date, paid: Sequence[tuple[str, Invoice | SupplierInvoice]], amount: Decimal,
             description: str, *, reference: str | None = None, counterparty: str | None = None,
             bank: Bank = "swedbank", decidable: bool = True) -> None:
        """A transfer of `amount` paying `paid`: into the account for our invoices, out of it for a supplier's."""
        sign = -1 if isinstance(paid[0][1], SupplierInvoice) else 1
        transaction = self.transaction(case, day, sign * amount, description, reference=reference,
                                       counterparty=counterparty, bank=bank)
        self.answers.extend(Answer(transaction, external_id, case, decidable) for external_id, _ in paid)

    def _keep(self, records: list[tuple[str, T]], external_id: str, record: T, case: Case) -> tuple[str, T]:
        records.append((external_id, record))
        self.cases[external_id] = case
        return external_id, record


def _money(ore: int) -> Decimal:
    return Decimal(ore).scaleb(-2)


def _typo(ocr: str, rng: random.Random) -> str:
    """`ocr` with one digit replaced: the Luhn check digit catches every such error."""
    position = rng.randrange(len(ocr))
    digit = rng.choice([d for d in "0123456789" if d != ocr[position]])
    return ocr[:position] + digit + ocr[position + 1 :]


def _bankgiro(rng: random.Random) -> str:
    payload = str(rng.randrange(1_000_000, 9_999_999))
    number = payload + luhn_digit(payload)
    return f"{number[:4]}-{number[4:]}"


def _round(b: _Builder, day: dt.date) -> None:
    """One case of each kind, invoiced on `day` or up to four days later."""
    rng = b.rng

    def issued() -> dt.date:
        return day + dt.timedelta(days=rng.randrange(0, 5))

    def paid_on(invoice: Invoice | SupplierInvoice, low: int = 5, high: int = 45) -> dt.date:
        """A day `low` to `high` days after the invoice date: before its due date plus 30 days, always."""
        return invoice.invoice_date + dt.timedelta(days=rng.randrange(low, high))

    ocr_formats: dict[Case, tuple[str, str | None]] = {  # (text, reference)
        "ocr_reference": ("Inbetalning {name}", "{ocr}"),
        "ocr_text": ("{name} OCR {ocr}", None),
        "ocr_bankgiro_text": (f"BG {OUR_BANKGIRO} OCR {{ocr}}", None),
        "ocr_glued": ("Inbetalning Bankgiro", "OCR{ocr}"),
    }
    for case, (text, reference) in ocr_formats.items():
        paid = b.invoice(case, issued())
        invoice = paid[1]
        values = {"name": invoice.customer_name, "ocr": invoice.ocr}
        b.pays(case, paid_on(invoice), [paid], invoice.total, text.format(**values),
               reference=reference and reference.format(**values), counterparty=invoice.customer_name)

    paid = b.invoice("ocr_typo", issued())
    mistyped = _typo(paid[1].ocr or "", rng)
    b.pays("ocr_typo", paid_on(paid[1]), [paid], paid[1].total, f"BG {OUR_BANKGIRO} OCR {mistyped}")

    paid = b.invoice("no_ocr", issued())
    b.pays("no_ocr", paid_on(paid[1]), [paid], paid[1].total, f"Insättning {paid[1].customer_name}", bank="ica")

    paid = b.invoice("partial", issued())
    b.pays("partial", paid_on(paid[1]), [paid], paid[1].total - SHORT, f"OCR {paid[1].ocr}")

    paid = b.invoice("partial_then_rest", issued())
    first = paid_on(paid[1], 5, 30)
    b.pays("partial_then_rest", first, [paid], paid[1].total - REST, f"OCR {paid[1].ocr} delbetalning")
    b.pays("partial_then_rest", first + dt.timedelta(days=rng.randrange(1, 10)), [paid], REST,
           f"OCR {paid[1].ocr} rest")

    paid = b.invoice("overpaid", issued())
    b.pays("overpaid", paid_on(paid[1]), [paid], paid[1].total + EXTRA, paid[1].customer_name, reference=paid[1].ocr)

    pair = [b.invoice("combined", issued()), b.invoice("combined", issued())]
    first_ocr, second_ocr = (invoice.ocr for _, invoice in pair)
    b.pays("combined", paid_on(pair[1][1]), pair, sum((invoice.total for _, invoice in pair), Decimal(0)),
           f"Betalning fakturor OCR {first_ocr}, {second_ocr}")

    # The second invoice of the same amount is issued 1-4 days after the first; the payment 10-24
    # days after the first is within the window of both.
    paid = b.invoice("ambiguous", day)
    b.invoice("ambiguous", day + dt.timedelta(days=rng.randrange(1, 5)), total=int(paid[1].total * 100))
    b.pays("ambiguous", day + dt.timedelta(days=rng.randrange(10, 25)), [paid], paid[1].total,
           f"Insättning {paid[1].customer_name}", bank="ica", decidable=False)

    def some_day() -> dt.date:
        return day + dt.timedelta(days=rng.randrange(0, 30))

    b.transaction("unrelated", some_day(), -_money(b.amount(4_000_00, 10_000_00)),
                  f"Lön {rng.choice(FIRST)} {rng.choice(LAST)}")
    b.transaction("unrelated", some_day(), -_money(b.amount(10_00, 500_00)), "Kortköp ICA Kvantum Gränby", bank="ica")
    b.transaction("unrelated", some_day(), _money(b.amount(1_00, 100_00)), "Ränta")
    b.transaction("unrelated", some_day(), _money(b.amount(10_00, 1_000_00)),
                  f"Swish från {rng.choice(FIRST)} {rng.choice(LAST)} 0701234567")

    b.invoice("unpaid", issued())

    for text, reference in (("BG {bg} {name}", "{ocr}"), ("BG {bg} OCR {ocr}", None)):
        bill = b.supplier_invoice("supplier_ocr", issued())
        supplier = bill[1]
        values = {"bg": _bankgiro(rng), "name": supplier.supplier_name, "ocr": supplier.ocr}
        b.pays("supplier_ocr", supplier.due_date - dt.timedelta(days=rng.randrange(0, 5)), [bill], supplier.total,
               text.format(**values), reference=reference and reference.format(**values),
               counterparty=supplier.supplier_name)

    bill = b.supplier_invoice("supplier_no_ocr", issued())
    b.pays("supplier_no_ocr", bill[1].due_date, [bill], bill[1].total, f"BG {_bankgiro(rng)} {bill[1].supplier_name}",
           reference=f"Faktura {bill[1].invoice_number}")

    bill = b.supplier_invoice("supplier_ambiguous", day)
    twin_day = day + dt.timedelta(days=rng.randrange(1, 5))
    b.supplier_invoice("supplier_ambiguous", twin_day, total=int(bill[1].total * 100))
    b.pays("supplier_ambiguous", bill[1].due_date, [bill], bill[1].total,
           f"BG {_bankgiro(rng)} {bill[1].supplier_name}", decidable=False)

    b.supplier_invoice("supplier_unpaid", issued())


def generate_payments(rounds: int, seed: int = 5, start: dt.date = dt.date(2026, 1, 1)) -> PaymentSet:
    """`rounds` rounds of `CASES` (20 invoices and 20 transactions each), spread over the year from `start`."""
    builder = _Builder(random.Random(f"payments:{seed}"))
    for n in range(rounds):
        _round(builder, start + dt.timedelta(days=n * 365 // rounds))
    return PaymentSet(builder.invoices, builder.supplier_invoices, builder.transactions, builder.answers, builder.cases)


def external_ids(connection: sa.Connection, tenant_id: str) -> dict[str, str]:
    """Stored id -> external id of the tenant's invoices, supplier invoices and bank transactions: how a
    matcher's result, which names stored rows, is put in the terms of `PaymentSet.answers` and `cases`."""
    external: dict[str, str] = {}
    for entity in ("bank_transaction", "invoice", "supplier_invoice"):
        table = ENTITIES[entity].table
        query = sa.select(table.c.id, table.c.external_id).where(table.c.tenant_id == tenant_id)
        external.update(connection.execute(query).all())
    return external

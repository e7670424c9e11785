"""Payment matching (issue #5) on SQLite and PostgreSQL: the generated set with known answers, every case
of it counted, and hand-made records for the rules the generator does not exercise.

The generated set is `generate_payments(2)`: two rounds of every case (one invoiced from 2026-01-01,
one from 2026-07-02), loaded under two tenants so that a query that forgot the tenant would see
every OCR and amount twice and change the counts.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from decimal import Decimal

import pytest
import sqlalchemy as sa
from pydantic import BaseModel

from connectors.sandbox.payments import CASES, EXTRA, REST, SHORT, PaymentSet, external_ids, generate_payments
from models.audit import AuditRecorder
from models.invoices import Invoice, InvoiceLine, SupplierInvoice
from models.payments import BankTransaction
from models.store import open_store
from models.tables import ENTITIES
from models.upsert import spelled, upsert_in_chunks
from tasks.reconciliation.payments import CODES, COLUMNS, PaymentMatching, match_payments

TENANT = "acme"
FIRST_HALF = (dt.date(2026, 1, 1), dt.date(2026, 6, 30))  # the first round's invoices and payments only


def load(engine: sa.Engine, tenant: str, invoices: Sequence[tuple[str, BaseModel]] = (),
         supplier_invoices: Sequence[tuple[str, BaseModel]] = (),
         transactions: Sequence[tuple[str, BaseModel]] = ()) -> None:
    with engine.begin() as connection:
        audit = AuditRecorder(tenant, "test")
        for entity, records in (("invoice", invoices), ("supplier_invoice", supplier_invoices),
                                ("bank_transaction", transactions)):
            upsert_in_chunks(connection, ENTITIES[entity], tenant, "sandbox", spelled(records), audit)


def run(engine: sa.Engine, period: tuple[dt.date, dt.date] | None = None) -> tuple[PaymentMatching, dict[str, str]]:
    """The matching of TENANT's store and the external id of every stored id it names."""
    with engine.connect() as connection:
        return match_payments(connection, TENANT, period), external_ids(connection, TENANT)


@pytest.fixture(scope="module")
def payments() -> PaymentSet:
    return generate_payments(2)


@pytest.fixture
def generated(database_url: str, payments: PaymentSet) -> sa.Engine:
    engine = open_store(database_url)
    for tenant in (TENANT, "other"):
        load(engine, tenant, payments.invoices, payments.supplier_invoices, payments.transactions)
    return engine


def case_counts(payments: PaymentSet, result: PaymentMatching,
                ids: dict[str, str]) -> tuple[Counter[tuple[str, ...]], ...]:
    """(case, method, status) of the matches, (case, reason) of the unmatched and of the open invoices."""
    return (
        Counter((payments.cases[ids[m.transaction_id]], m.method, m.status) for m in result.matches),
        Counter((payments.cases[ids[u.transaction_id]], u.reason) for u in result.unmatched),
        Counter((payments.cases[ids[o.invoice_id]], o.reason) for o in result.open_invoices),
    )


def per_round(rounds: int) -> tuple[Counter[tuple[str, ...]], ...]:
    """What `case_counts` must be for `rounds` rounds of the generator."""
    matches = Counter({
        ("ocr_reference", "ocr", "exact"): 1, ("ocr_text", "ocr", "exact"): 1,
        ("ocr_bankgiro_text", "ocr", "exact"): 1, ("ocr_glued", "ocr", "exact"): 1,
        ("ocr_typo", "amount_date", "exact"): 1, ("no_ocr", "amount_date", "exact"): 1,
        ("partial", "ocr", "partial"): 1, ("partial_then_rest", "ocr", "partial"): 1,
        ("partial_then_rest", "ocr", "exact"): 1, ("overpaid", "ocr", "overpaid"): 1,
        ("combined", "ocr_combined", "exact"): 2, ("supplier_ocr", "ocr", "exact"): 2,
        ("supplier_no_ocr", "amount_date", "exact"): 1,
    })
    unmatched = Counter({("unrelated", "no_candidate"): 4, ("ambiguous", "ambiguous_amount"): 1,
                         ("supplier_ambiguous", "ambiguous_amount"): 1})
    open_invoices = Counter({("ambiguous", "ambiguous_payment"): 2, ("supplier_ambiguous", "ambiguous_payment"): 2,
                             ("unpaid", "no_payment"): 1, ("supplier_unpaid", "no_payment"): 1})
    return tuple(Counter({key: n * rounds for key, n in c.items()}) for c in (matches, unmatched, open_invoices))


def test_every_case_is_matched_as_the_answers_say(generated: sa.Engine, payments: PaymentSet) -> None:
    result, ids = run(generated)

    assert (len(result.matches), len(result.unmatched), len(result.open_invoices)) == (30, 12, 12)
    assert case_counts(payments, result, ids) == per_round(2)
    assert set(payments.cases.values()) == set(CASES)
    score = payments.score((ids[m.transaction_id], ids[m.invoice_id]) for m in result.matches)
    assert (score.found, score.correct, score.answers, score.decidable) == (30, 30, 34, 30)
    assert (score.precision, score.decidable_recall) == (1.0, 1.0)
    assert score.recall == 30 / 34  # the four same-amount payments stay unmatched: never a guess


def test_differences_of_partial_and_over_payments(generated: sa.Engine, payments: PaymentSet) -> None:
    result, ids = run(generated)
    kinds = {"partial", "partial_then_rest", "overpaid", "combined"}
    shown = sorted(
        (ids[m.transaction_id], ids[m.invoice_id], m.method, m.amount, m.amount_due, m.difference, m.status)
        for m in result.matches if payments.cases[ids[m.transaction_id]] in kinds
    )

    d = Decimal
    assert shown == [
        ("tx-000007", "inv-000007", "ocr", d("68971.50"), d("69971.50"), d("-1000.00"), "partial"),
        ("tx-000008", "inv-000008", "ocr", d("112437.60"), d("114437.60"), d("-2000.00"), "partial"),
        ("tx-000009", "inv-000008", "ocr", d("2000.00"), d("2000.00"), d("0.00"), "exact"),  # the rest, later
        ("tx-000010", "inv-000009", "ocr", d("196773.80"), d("196523.80"), d("250.00"), "overpaid"),
        ("tx-000011", "inv-000010", "ocr_combined", d("89297.90"), d("89297.90"), d("0.00"), "exact"),
        ("tx-000011", "inv-000011", "ocr_combined", d("44896.00"), d("44896.00"), d("0.00"), "exact"),
        ("tx-000027", "inv-000021", "ocr", d("122977.00"), d("123977.00"), d("-1000.00"), "partial"),
        ("tx-000028", "inv-000022", "ocr", d("89583.20"), d("91583.20"), d("-2000.00"), "partial"),
        ("tx-000029", "inv-000022", "ocr", d("2000.00"), d("2000.00"), d("0.00"), "exact"),
        ("tx-000030", "inv-000023", "ocr", d("95378.50"), d("95128.50"), d("250.00"), "overpaid"),
        ("tx-000031", "inv-000024", "ocr_combined", d("114494.60"), d("114494.60"), d("0.00"), "exact"),
        ("tx-000031", "inv-000025", "ocr_combined", d("57606.10"), d("57606.10"), d("0.00"), "exact"),
    ]
    assert (SHORT, REST, EXTRA) == (d("1000.00"), d("2000.00"), d("250.00"))  # the generator's, as above


def test_period_takes_its_transactions_and_the_invoices_issued_by_its_end(generated: sa.Engine,
                                                                         payments: PaymentSet) -> None:
    result, ids = run(generated, FIRST_HALF)

    assert case_counts(payments, result, ids) == per_round(1)
    assert max(m.booking_date for m in result.matches) <= FIRST_HALF[1]


def test_rows_for_the_report(generated: sa.Engine) -> None:
    result, _ = run(generated)

    assert [(s.key, len(s.as_rows())) for s in result.sections()] == [
        ("payment_matches", 30), ("unmatched_transactions", 12), ("open_invoices", 12)]
    for section in result.sections():
        assert set(section.columns) <= set(COLUMNS)
        for row in section.as_rows():
            assert list(row) == list(section.columns)
            assert all(row[c] in CODES for c in section.columns if COLUMNS[c][1] == "code")
    row = result.matches.as_rows()[0]
    assert isinstance(row["amount"], Decimal) and isinstance(row["booking_date"], dt.date)
    assert result.unmatched.as_rows()[0]["reference"] is None  # missing stays None, not NaN


# --------------------------------------------------------------------------- hand-made records
JAN = dt.date(2026, 1, 10)


def invoice(number: str, total: str, *, ocr: str | None = None, paid: str = "0.00", status: str = "sent",
            day: dt.date = JAN) -> Invoice:
    """A customer invoice of one line without VAT, so that `total` is all there is to it."""
    amount = Decimal(total)
    return Invoice(
        invoice_number=number, status=status, customer_number="1001", customer_name="Uppsalahem AB",
        invoice_date=day, due_date=day + dt.timedelta(days=30), currency="SEK",
        lines=[InvoiceLine(line_number=1, description="Arbete", quantity=Decimal(1), unit_price=amount,
                           vat_rate=Decimal(0), line_total=amount, vat_amount=Decimal("0.00"))],
        subtotal=amount, vat_amount=Decimal("0.00"), total=amount, amount_due=amount - Decimal(paid),
        paid_amount=Decimal(paid), ocr=ocr,
    )


def bill(number: str, total: str, ocr: str) -> SupplierInvoice:
    return SupplierInvoice(given_number=number, invoice_number=number, supplier_number="7",
                           supplier_name="Bergs Trävaror AB", invoice_date=JAN, due_date=JAN + dt.timedelta(days=30),
                           total=Decimal(total), vat=Decimal("0.00"), currency="SEK", ocr=ocr)


def paid(day: dt.date, amount: str, description: str, currency: str = "SEK") -> BankTransaction:
    return BankTransaction(account="8327-9", booking_date=day, amount=Decimal(amount), currency=currency,
                           description=description, bank="swedbank", status="booked")


def test_hand_made_rules(database_url: str) -> None:
    engine = open_store(database_url)
    feb = dt.date(2026, 2, 1)
    load(engine, TENANT, invoices=[
        ("a", invoice("1", "1000.00", ocr="10000180")), ("b", invoice("2", "2000.00", ocr="10000289")),
        ("paid", invoice("3", "3000.00", ocr="10000388", paid="3000.00", status="paid")),
        ("late", invoice("4", "4000.00")), ("early", invoice("5", "5000.00")), ("kr", invoice("6", "6000.00")),
        ("twice", invoice("7", "7000.00")), ("draft", invoice("8", "8000.00", status="draft")),
        ("hyphen", invoice("9", "9000.00", ocr="10000586")),
        ("dup-1", invoice("10", "1100.00", ocr="10000685")), ("dup-2", invoice("11", "1200.00", ocr="10000685")),
    ], supplier_invoices=[("s", bill("40001", "1500.00", "279294082755"))], transactions=[
        ("both-short", paid(feb, "2999.00", "OCR 10000180 10000289")),  # two OCRs, not their sum
        ("double", paid(feb, "3000.00", "OCR 10000388.")),  # an invoice already paid in full
        ("supplier-ocr-in", paid(feb, "1499.00", "Återbetalning 279294082755")),  # money in, a supplier's OCR
        ("after-window", paid(JAN + dt.timedelta(days=61), "4000.00", "Insättning")),
        ("before-invoice", paid(JAN - dt.timedelta(days=1), "5000.00", "Insättning")),
        ("euro", paid(feb, "6000.00", "Insättning", currency="EUR")),
        ("twice-1", paid(feb, "7000.00", "Insättning")), ("twice-2", paid(feb, "7000.00", "Insättning")),
        ("draft-amount", paid(feb, "8000.00", "Insättning")),
        ("ref-2026-10000586", paid(feb, "9001.00", "Faktura 2026-10000586")),  # a number with a hyphen is no OCR
        ("same-ocr", paid(feb, "1100.00", "OCR 10000685")),  # the OCR of two invoices: which one?
    ])

    result, ids = run(engine)

    assert [(ids[m.transaction_id], ids[m.invoice_id], m.method, m.amount, m.amount_due, m.difference, m.status)
            for m in result.matches] == [
        ("double", "paid", "ocr", Decimal("3000.00"), Decimal("0.00"), Decimal("3000.00"), "overpaid")]
    assert sorted((ids[u.transaction_id], u.reason) for u in result.unmatched) == [
        ("after-window", "no_candidate"), ("before-invoice", "no_candidate"), ("both-short", "several_references"),
        ("draft-amount", "no_candidate"), ("euro", "no_candidate"), ("ref-2026-10000586", "no_candidate"),
        ("same-ocr", "several_references"), ("supplier-ocr-in", "no_candidate"), ("twice-1", "ambiguous_amount"),
        ("twice-2", "ambiguous_amount"),
    ]
    assert sorted((ids[o.invoice_id], o.reason, o.amount_due) for o in result.open_invoices) == [
        ("a", "no_payment", Decimal("1000.00")), ("b", "no_payment", Decimal("2000.00")),
        ("dup-1", "no_payment", Decimal("1100.00")), ("dup-2", "no_payment", Decimal("1200.00")),
        ("early", "no_payment", Decimal("5000.00")), ("hyphen", "no_payment", Decimal("9000.00")),
        ("kr", "no_payment", Decimal("6000.00")), ("late", "no_payment", Decimal("4000.00")),
        ("s", "no_payment", Decimal("1500.00")), ("twice", "ambiguous_payment", Decimal("7000.00")),
    ]


def test_an_empty_store_matches_nothing(database_url: str) -> None:
    result, _ = run(open_store(database_url))

    assert [len(section) for section in result.sections()] == [0, 0, 0]
    assert [section.as_rows() for section in result.sections()] == [[], [], []]
    assert [len(section.columns) for section in result.sections()] == [11, 8, 10]  # headings of an empty table

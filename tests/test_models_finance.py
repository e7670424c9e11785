"""Canonical finance models: INT-01-DQ-001/002/004 enforced at validation time."""

from __future__ import annotations

import copy
import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
import sqlalchemy as sa
from pydantic import ValidationError

from models.documents import Attachment
from models.invoices import CreditNote, Invoice, SupplierInvoice
from models.ledger import JournalEntry
from models.operations import AuditEvent
from models.parties import Address, Employee
from models.payments import BankTransaction, Payment
from models.products import Product
from models.raindance import Faktura, Konteringsrad
from models.types import swedish_amount

FORTNOX_SUPPLIER_INVOICE = (
    Path(__file__).parent / "data/fortnox/fortnox_supplierinvoice_SYNTHETIC.json"
)


def invoice_payload() -> dict[str, Any]:
    """Two lines with postings: 3 × 199.90 less 10% and 1.5 h × 850.00, rounded to whole kronor."""
    return {
        "invoice_number": "1001",
        "status": "sent",
        "customer_number": "K-17",
        "customer_name": "Brf Stenen",
        "invoice_date": "2026-02-03",
        "due_date": "2026-03-05",
        "currency": "SEK",
        "lines": [
            {
                "line_number": 1,
                "description": "Filter",
                "quantity": "3",
                "unit_price": "199.90",
                "discount_percent": "10",
                "vat_rate": "25",
                "line_total": "539.73",
                "vat_amount": "134.93",
                "postings": [
                    {"account": "3010", "amount": "300.00", "cost_centre": "100"},
                    {"account": "3010", "amount": "239.73", "cost_centre": "200", "dimension_1": "X"},
                ],
            },
            {
                "line_number": 2,
                "description": "Service",
                "quantity": "1.5",
                "unit_price": "850.00",
                "vat_rate": "25",
                "line_total": "1275.00",
                "vat_amount": "318.75",
                "postings": [{"account": "3040", "amount": "1275.00", "project": "1313"}],
            },
        ],
        "subtotal": "1814.73",
        "vat_amount": "453.68",
        "rounding": "-0.41",
        "total": "2268.00",
        "amount_due": "2268.00",
        "paid_amount": "0",
    }


def faktura_payload() -> dict[str, Any]:
    """One rent row split over two cost centres."""
    return {
        "invoice_id": "F-1",
        "customer_id": "K-1",
        "invoice_date": "2026-02-01",
        "due_date": "2026-02-28",
        "total_incl_vat": "12500.00",
        "vat_amount": "2500.00",
        "currency": "SEK",
        "status": "approved",
        "rows": [
            {
                "row_id": "R-1",
                "invoice_id": "F-1",
                "description": "Hyra lokal februari",
                "quantity": "1",
                "unit_price": "10000.00",
                "total_excl_vat": "10000.00",
                "vat_rate": "25",
                "vat_amount": "2500.00",
                "period_from": "2026-02-01",
                "period_to": "2026-02-28",
                "postings": [
                    {"posting_id": "P-1", "invoice_row_id": "R-1", "account": "3911",
                     "amount": "6000.00", "cost_centre": "10"},
                    {"posting_id": "P-2", "invoice_row_id": "R-1", "account": "3911",
                     "amount": "4000.00", "cost_centre": "20"},
                ],
            }
        ],
    }


def journal_payload(credit: str) -> dict[str, Any]:
    return {
        "entry_number": "A-42",
        "entry_date": "2026-02-03",
        "posting_date": "2026-02-03",
        "description": "Försäljning",
        "source_type": "invoice",
        "lines": [
            {"line_number": 1, "account_number": "1510", "debit": "1250.00"},
            {"line_number": 2, "account_number": "3010", "credit": credit},
            {"line_number": 3, "account_number": "2611", "credit": "250.00"},
        ],
        "total_debit": "1250.00",
        "total_credit": str(Decimal(credit) + Decimal("250.00")),
        "is_locked": False,
    }


def test_valid_invoice_with_two_lines_and_postings() -> None:
    invoice = Invoice.model_validate(invoice_payload())

    assert invoice.type == "invoice"
    assert invoice.subtotal == Decimal("1814.73")
    assert invoice.vat_amount == Decimal("453.68")
    assert invoice.rounding == Decimal("-0.41")
    assert invoice.total == Decimal("2268.00")
    assert [line.line_total for line in invoice.lines] == [Decimal("539.73"), Decimal("1275.00")]
    assert invoice.lines[0].postings[1].dimension_1 == "X"
    assert invoice.model_dump(mode="json", by_alias=True)["amountDue"] == "2268.00"


def test_line_total_rounds_half_up() -> None:
    payload = invoice_payload()
    payload["lines"] = [
        {"line_number": 1, "description": "x", "quantity": "0.5", "unit_price": "10.01",
         "vat_rate": "0", "line_total": "5.01", "vat_amount": "0"},
    ]
    payload |= {"subtotal": "5.01", "vat_amount": "0", "rounding": "-0.01", "total": "5.00", "amount_due": "5.00"}
    assert Invoice.model_validate(payload).lines[0].line_total == Decimal("5.01")

    payload["lines"][0]["line_total"] = "5.00"  # banker's rounding would give this
    with pytest.raises(ValidationError, match="INT-01-DQ-004: invoice line 1 net amount 5.00"):
        Invoice.model_validate(payload)


def test_header_vat_may_differ_from_line_vat_by_one_ore_per_line() -> None:
    payload = invoice_payload() | {"vat_amount": "453.70", "rounding": "-0.43"}
    assert Invoice.model_validate(payload).vat_amount == Decimal("453.70")


def _break_line_total(p: dict[str, Any]) -> None:
    p["lines"][0]["line_total"] = "539.74"


def _break_line_vat(p: dict[str, Any]) -> None:
    p["lines"][1]["vat_amount"] = "318.77"


def _break_postings(p: dict[str, Any]) -> None:
    p["lines"][1]["postings"][0]["amount"] = "1274.99"


def _break_subtotal(p: dict[str, Any]) -> None:
    p["subtotal"] = "1814.74"


def _break_header_vat(p: dict[str, Any]) -> None:
    p["vat_amount"] = "453.71"  # 0.03 off with two lines


def _break_total(p: dict[str, Any]) -> None:
    p["total"] = "2268.41"


def _break_amount_due(p: dict[str, Any]) -> None:
    p["paid_amount"] = "1000.00"


@pytest.mark.parametrize(
    ("breaker", "message"),
    [
        (_break_line_total, "invoice line 1 net amount 539.74 != quantity 3 × unit price 199.90 less 10% = 539.73"),
        (_break_line_vat, "invoice line 2 vat 318.77 differs from net 1275.00 × 25%"),
        (_break_postings, "invoice line 2 postings sum to 1274.99, not the net amount 1275.00"),
        (_break_subtotal, "invoice 1001 subtotal 1814.74 != sum of line totals 1814.73"),
        (_break_header_vat, "invoice 1001 vat 453.71 differs from the sum of line vat 453.68 by more than 0.02"),
        (_break_total, "invoice 1001 total 2268.41 != subtotal 1814.73 + vat 453.68 + rounding -0.41"),
        (_break_amount_due, "invoice 1001 amount_due 2268.00 != total 2268.00 - paid_amount 1000.00"),
    ],
)
def test_dq004_violations_are_rejected(breaker: Any, message: str) -> None:
    payload = copy.deepcopy(invoice_payload())
    breaker(payload)
    with pytest.raises(ValidationError) as excinfo:
        Invoice.model_validate(payload)
    assert f"INT-01-DQ-004: {message}" in str(excinfo.value)


def test_rounding_must_be_below_one_krona() -> None:
    payload = invoice_payload() | {"rounding": "-1.41", "total": "2267.00", "amount_due": "2267.00"}
    with pytest.raises(ValidationError, match="rounding"):
        Invoice.model_validate(payload)


def test_money_with_three_decimals_is_rejected() -> None:
    row = {"account": "1930", "booking_date": "2025-01-15", "currency": "SEK",
           "description": "ICA Maxi Stockholm", "bank": "ica", "status": "booked"}
    with pytest.raises(ValidationError, match="more than 2 decimals"):
        BankTransaction.model_validate(row | {"amount": "10.005"})
    with pytest.raises(ValidationError, match="more than 2 decimals"):
        BankTransaction.model_validate(row | {"amount": 10.005})
    assert BankTransaction.model_validate(row | {"amount": "-125.5"}).amount == Decimal("-125.50")


@pytest.mark.parametrize("amount", ["10000000000000000", "-99999999999999999999999999999.99", "1E+400", 10**30])
def test_an_amount_the_store_cannot_hold_is_a_validation_error_not_a_crash(amount: Any) -> None:
    """NUMERIC(18, 2) holds 16 digits before the point: a larger amount is reported on its row
    (it used to raise decimal.InvalidOperation past 28 digits, and fail the load at the database
    below that)."""
    row = {"account": "1930", "booking_date": "2025-01-15", "currency": "SEK", "description": "Insättning",
           "bank": "ica", "status": "booked"}
    with pytest.raises(ValidationError, match="out of range: at most 16 digits before the decimal point"):
        BankTransaction.model_validate(row | {"amount": amount})


PRODUCT = {"product_number": "A1", "name": "Skruv", "unit": "st", "sales_price": "1.50", "vat_code": "MP1",
           "revenue_account_number": "3001", "inventory_enabled": True, "is_active": True}


@pytest.mark.parametrize(("quantity", "message"), [
    ("0.1234567", "more than 6 decimals"), ("1E-400", "more than 6 decimals"),
    ("1000000000000", "out of range: at most 12 digits"), ("1E+400", "out of range: at most 12 digits"),
])
def test_a_quantity_the_store_would_round_or_refuse_is_rejected(quantity: str, message: str) -> None:
    """NUMERIC(18, 6) would round a seventh decimal away without a word."""
    with pytest.raises(ValidationError, match=message):
        Product.model_validate(PRODUCT | {"stock_quantity": quantity})


def test_the_largest_amount_and_quantity_are_stored_as_given(database_url: str) -> None:
    """PostgreSQL holds the full width exactly. SQLite keeps NUMERIC as a binary float, exact to
    15 significant digits: the embedded store is for trying ledgerflow out, not for amounts of
    ten thousand billion."""
    from models.audit import AuditRecorder
    from models.store import open_store
    from models.tables import ENTITIES
    from models.upsert import spelled, upsert

    exact = ("-9999999999999999.99", "999999999999.000001") if database_url.startswith("postgresql") \
        else ("-9999999999999.99", "999999999.000001")
    row = {"account": "1930", "booking_date": "2025-01-15", "currency": "SEK", "description": "Insättning",
           "bank": "ica", "status": "booked"}
    largest = BankTransaction.model_validate(row | {"amount": exact[0]})
    product = Product.model_validate(PRODUCT | {"stock_quantity": exact[1]})
    with open_store(database_url).begin() as connection:
        audit = AuditRecorder("acme", "test")
        upsert(connection, ENTITIES["bank_transaction"], "acme", "ica", spelled([("tx", largest)], for_copy=True), audit)
        upsert(connection, ENTITIES["product"], "acme", "fortnox", spelled([("A1", product)]), audit)
        audit.flush(connection)
    with open_store(database_url).connect() as connection:
        amount = connection.execute(sa.select(ENTITIES["bank_transaction"].table.c.amount)).scalar_one()
        quantity = connection.execute(sa.select(ENTITIES["product"].table.c.stock_quantity)).scalar_one()
    assert (amount, quantity) == (Decimal(exact[0]), Decimal(exact[1]))


def test_currency_is_normalised_and_checked() -> None:
    assert Invoice.model_validate(invoice_payload() | {"currency": "sek"}).currency == "SEK"
    with pytest.raises(ValidationError, match="ISO 4217"):
        Invoice.model_validate(invoice_payload() | {"currency": "XYZ"})


def test_camel_case_payload_validates() -> None:
    payload = {
        "invoiceNumber": "2001",
        "status": "draft",
        "customerNumber": "K-1",
        "customerName": "Exempel AB",
        "customerAddress": {"street": "Storgatan 1", "city": "Västerås", "postalCode": "722 11"},
        "invoiceDate": "2026-01-10",
        "dueDate": "2026-02-09",
        "currency": "SEK",
        "lines": [
            {"lineNumber": 1, "description": "Konsult", "quantity": 8, "unitPrice": 950,
             "discountPercent": 0, "vatRate": 25, "lineTotal": 7600, "vatAmount": 1900,
             "postings": [{"account": "3041", "amount": 7600, "costCentre": "KS1", "dimension5": "Q1"}]},
        ],
        "subtotal": 7600,
        "vatAmount": 1900,
        "total": 9500,
        "amountDue": 9500,
        "paidAmount": 0,
        "ocr": "20016",
    }
    invoice = Invoice.model_validate(payload)
    assert invoice.invoice_number == "2001"
    assert invoice.invoice_date == dt.date(2026, 1, 10)
    assert invoice.total == Decimal("9500.00")
    assert invoice.customer_address is not None and invoice.customer_address.country == "SE"
    assert invoice.lines[0].postings[0].dimension_5 == "Q1"


def test_empty_required_text_and_missing_required_fields_are_rejected() -> None:
    with pytest.raises(ValidationError) as blank:
        Invoice.model_validate(invoice_payload() | {"customer_name": "  "})
    assert [(e["loc"], e["type"]) for e in blank.value.errors()] == [(("customer_name",), "string_too_short")]
    payload = invoice_payload()
    del payload["due_date"]
    with pytest.raises(ValidationError) as missing:
        Invoice.model_validate(payload)
    assert [(e["loc"], e["type"]) for e in missing.value.errors()] == [(("dueDate",), "missing")]


def test_models_are_frozen() -> None:
    invoice = Invoice.model_validate(invoice_payload())
    with pytest.raises(ValidationError, match="frozen"):
        invoice.total = Decimal("0.00")  # type: ignore[misc]


def test_credit_note_has_a_fixed_type_and_negative_amounts() -> None:
    payload = invoice_payload()
    payload["lines"] = [
        {"line_number": 1, "description": "Kreditering", "quantity": "-1", "unit_price": "100.00",
         "vat_rate": "25", "line_total": "-100.00", "vat_amount": "-25.00"},
    ]
    payload |= {"subtotal": "-100.00", "vat_amount": "-25.00", "rounding": "0",
                "total": "-125.00", "amount_due": "-125.00"}
    note = CreditNote.model_validate(payload)
    assert note.type == "credit_note"
    assert note.total == Decimal("-125.00")
    with pytest.raises(ValidationError, match="credit_note"):
        CreditNote.model_validate(payload | {"type": "invoice"})


def test_balanced_journal_entry() -> None:
    entry = JournalEntry.model_validate(journal_payload(credit="1000.00"))
    assert entry.is_balanced
    assert entry.total_credit == Decimal("1250.00")


def test_unbalanced_journal_entry_is_rejected() -> None:
    message = "INT-01-DQ-004: journal entry A-42 is unbalanced: debit 1250.00 != credit 1150.00"
    with pytest.raises(ValidationError, match=message):
        JournalEntry.model_validate(journal_payload(credit="900.00"))


def test_journal_totals_must_match_lines() -> None:
    payload = journal_payload(credit="1000.00") | {"total_debit": "1200.00"}
    message = "INT-01-DQ-004: journal entry A-42 total_debit 1200.00 != sum of line debits 1250.00"
    with pytest.raises(ValidationError, match=message):
        JournalEntry.model_validate(payload)


def test_journal_line_has_exactly_one_side() -> None:
    payload = journal_payload(credit="1000.00")
    payload["lines"][0]["credit"] = "1.00"
    with pytest.raises(ValidationError, match="exactly one of debit 1250.00 and credit 1.00"):
        JournalEntry.model_validate(payload)


def test_valid_faktura() -> None:
    faktura = Faktura.model_validate(faktura_payload())
    row = faktura.rows[0]
    assert faktura.total_incl_vat == Decimal("12500.00")
    assert [p.amount for p in row.postings] == [Decimal("6000.00"), Decimal("4000.00")]
    assert isinstance(row.postings[0], Konteringsrad)


def test_faktura_postings_must_sum_to_the_row() -> None:
    payload = faktura_payload()
    payload["rows"][0]["postings"][1]["amount"] = "3999.00"
    message = "INT-01-DQ-004: Fakturarad R-1 postings sum to 9999.00, not the net amount 10000.00"
    with pytest.raises(ValidationError, match=message):
        Faktura.model_validate(payload)


def test_faktura_total_must_follow_from_rows() -> None:
    message = "INT-01-DQ-004: Faktura F-1 total_incl_vat 12000.00 != rows excl. vat 10000.00"
    with pytest.raises(ValidationError, match=message):
        Faktura.model_validate(faktura_payload() | {"total_incl_vat": "12000.00"})


def test_konteringsrad_requires_a_cost_centre() -> None:
    payload = faktura_payload()
    del payload["rows"][0]["postings"][0]["cost_centre"]
    with pytest.raises(ValidationError) as excinfo:
        Faktura.model_validate(payload)
    assert [(e["loc"], e["type"]) for e in excinfo.value.errors()] == [
        (("rows", 0, "postings", 0, "costCentre"), "missing")
    ]


def test_payment_allocations_cannot_exceed_the_amount() -> None:
    payment = {
        "type": "incoming",
        "status": "completed",
        "amount": "1000.00",
        "currency": "SEK",
        "payment_date": "2026-02-10",
        "payment_method": "bankgiro",
    }
    ok = Payment.model_validate(payment | {"allocations": [{"invoice_number": "1001", "amount": "600.00"}]})
    assert ok.allocations[0].amount == Decimal("600.00")
    over = [{"invoice_number": "1001", "amount": "600.00"}, {"invoice_number": "1002", "amount": "400.01"}]
    message = "INT-01-DQ-004: payment allocations 1000.01 exceed the payment amount 1000.00"
    with pytest.raises(ValidationError, match=message):
        Payment.model_validate(payment | {"allocations": over})


def test_fortnox_supplier_invoice_sample_maps() -> None:
    raw = json.loads(FORTNOX_SUPPLIER_INVOICE.read_text(encoding="utf-8"))["SupplierInvoice"]
    header = {"GivenNumber": "given_number", "InvoiceNumber": "invoice_number",
              "SupplierNumber": "supplier_number", "SupplierName": "supplier_name",
              "InvoiceDate": "invoice_date", "DueDate": "due_date", "Total": "total", "VAT": "vat",
              "Currency": "currency", "OCR": "ocr", "Project": "project", "Comments": "comments"}
    row = {"Account": "account", "Code": "code", "ArticleNumber": "article_number",
           "ItemDescription": "description", "Quantity": "quantity", "Price": "price", "Total": "total"}

    # Fortnox writes "" for "not set" and sends Account as a number; the model keeps it as text.
    rows = [{ours: str(r[theirs]) for theirs, ours in row.items() if r[theirs] != ""}
            for r in raw["SupplierInvoiceRows"]]
    invoice = SupplierInvoice.model_validate(
        {ours: raw[theirs] for theirs, ours in header.items() if raw[theirs] != ""} | {"rows": rows}
    )

    assert invoice.given_number == "114"
    assert invoice.invoice_number == "2026-114"
    assert invoice.invoice_date == dt.date(2026, 2, 3)
    assert invoice.total == Decimal("6250.00")
    assert invoice.vat == Decimal("1250.00")
    assert invoice.currency == "SEK"
    assert invoice.ocr == "1140001"
    assert invoice.project is None
    assert [(r.account, r.code, r.total) for r in invoice.rows] == [
        ("2440", "TOT", Decimal("-6250.00")),
        ("2641", "VAT", Decimal("1250.00")),
        ("6110", "PRE", Decimal("5000.00")),
    ]


def test_country_code_is_iso_3166() -> None:
    assert Address(street="Strøget 1", city="København", postal_code="1160", country="dk").country == "DK"
    with pytest.raises(ValidationError, match="ISO 3166"):
        Address(street="a", city="b", postal_code="c", country="XX")


def test_personal_number_stays_out_of_repr() -> None:
    employee = Employee(employee_number="7", name="Lars Säck", personal_number="19800101-0000", is_active=True)
    assert employee.personal_number == "19800101-0000"
    assert "19800101" not in repr(employee)


def test_attachment_checksum_is_sha256_hex() -> None:
    attachment = {
        "file_name": "faktura_12345.pdf",
        "mime_type": "application/pdf",
        "file_size": 48213,
        "storage_url": "s3://vouchers/2026/faktura_12345.pdf",
        "source_type": "invoice",
        "ocr_processed": False,
        "retention_until": "2033-12-31",
    }
    digest = "AB" * 32
    assert Attachment.model_validate(attachment | {"checksum": digest}).checksum == "ab" * 32
    with pytest.raises(ValidationError, match="checksum"):
        Attachment.model_validate(attachment | {"checksum": "ab" * 31})


def test_audit_event_needs_an_aware_timestamp() -> None:
    event = {
        "id": str(uuid4()),
        "company_id": str(uuid4()),
        "event_type": "sync",
        "entity_type": "invoice",
        "entity_id": str(uuid4()),
        "system_actor": "fortnox-import",
        "checksum": "0" * 64,
    }
    stamp = dt.datetime(2026, 2, 3, 12, 0)
    assert AuditEvent.model_validate(event | {"timestamp": stamp.replace(tzinfo=dt.UTC)}).previous_checksum is None
    with pytest.raises(ValidationError, match="timezone"):
        AuditEvent.model_validate(event | {"timestamp": stamp})


@pytest.mark.parametrize(("value", "unit", "minus", "printed"), [
    ("-1234.5", "kr", "-", "-1\u00a0234,50\u00a0kr"),
    (Decimal("25000"), "SEK", "-", "25\u00a0000,00\u00a0SEK"),
    (Decimal("-1234567.891"), None, "\u2212", "\u22121\u00a0234\u00a0567,89"),
    ("-0.001", None, "-", "0,00"),  # no "minus nothing"
    ("0.125", None, "-", "0,13"),  # half up, as in accounting
])
def test_swedish_amount(value: object, unit: str | None, minus: str, printed: str) -> None:
    assert swedish_amount(value, unit, minus=minus) == printed  # type: ignore[arg-type]

"""The rule-based invoice reader (connectors.invoice_pdf): exact fields, refusals, check digits.

Real invoices: the 25 PDFs of tests/data/invoices (from ../shared/reference/invoices) with the ground truth of
expected_normalized.json. Every ground-truth value is asserted exactly, except those listed
in `VISIBLE` with the reason a text reader cannot or must not return them; for those the
test asserts what the page itself shows (or None where it shows nothing as text). The
ZUGFeRD traps are tested on their visible values, never their embedded XML.

Swedish invoices: every layout and scenario of connectors.sandbox.invoice_corpus, whose
truth says what a perfect reader extracts, the Fortnox sandbox's archive, and two invoices
drawn by hand with literal values. Bad documents are made here with PyMuPDF or as bytes.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path

import pymupdf
import pytest

from connectors.invoice_pdf import read_invoice
from connectors.invoice_pdf.amounts import money
from connectors.invoice_pdf.dates import DateReader
from connectors.sandbox.fortnox.pdf import LAYOUTS, InvoiceDocument, InvoiceLine, VatRow, render
from connectors.sandbox.fortnox.seed import populate
from connectors.sandbox.fortnox.state import SandboxState
from connectors.sandbox.invoice_corpus import (
    BAD_DOCUMENTS, BUYER, COMPARED_FIELDS, SCENARIOS, bad_document, generate, make_invoice,
)
from models.invoice_review import ExtractedFields, ExtractedLine, ProjectHint, VatLine

CORPUS = Path(__file__).parent / "data" / "invoices"  # a copy of ../shared/reference/invoices (PDFs, truth, licences)

# expected_normalized.json key -> ExtractedFields field
TRUTH_FIELDS = {
    "invoice_number": "invoice_number", "date": "invoice_date", "date_due": "due_date", "amount": "total",
    "amount_tax": "vat_amount", "amount_untaxed": "net", "currency": "currency", "vat": "supplier_vat_number",
    "partner_name": "supplier_name", "iban": "iban",
}
# Keys with no ExtractedFields counterpart: type_code (invoice/credit note), amount_due (after
# prepayments), payment_reference (SEPA remittance text or the invoice number, not a Luhn OCR),
# buyer_reference (an order number or XRechnung's "Leitwege-ID" routing id, not the buyer's
# contact person that `reference` holds).

SAECO = "invoice2data/saeco.pdf"
ACME = "zugferd-corpus/misc/acme_invoice-42_ZUGFeRD.pdf"
ATGP = "zugferd-corpus/misc/sample_inofficial_20190125_atgp_factur-x_v_1_0.pdf"
AVOIR = "zugferd-corpus/factur-x-fnfe/Avoir_FR_type381_BASIC.pdf"
FNFE = (AVOIR, "zugferd-corpus/factur-x-fnfe/Facture_FR_BASICWL.pdf",
        "zugferd-corpus/factur-x-fnfe/Facture_UE_MINIMUM.pdf")
IMAGE = "printed in an image (the issuer block): needs OCR or a vision model"
OTHER_XML = "trap: the embedded XML is another invoice; the page is what was invoiced"
NEGATIVE = "credit note: the page prints negative amounts, the XML positive ones with type 381"

# (file, truth key) -> (what the page shows as text, or None; why it is not the ground truth)
VISIBLE: dict[tuple[str, str], tuple[object, str]] = {
    (SAECO, "partner_name"): (None, IMAGE),
    (SAECO, "vat"): (None, IMAGE + "; the buyer's 'Uw BTW nummer' must not stand in for it"),
    (SAECO, "iban"): (None, IMAGE),
    ("invoice2data/AzureInterior.pdf", "iban"): (None, "'Bank Account: US1234567890' fails the IBAN check"),
    ("invoice2data/AmazonWebServices.pdf", "amount_untaxed"): (None, "no net amount printed, only 'Charges'"),
    ("invoice2data/QualityHosting.pdf", "amount_untaxed"): (None, "only 'Total EUR' printed (no VAT charged)"),
    (ACME, "invoice_number"): ("42", OTHER_XML),
    (ACME, "date"): (dt.date(2014, 1, 31), OTHER_XML),
    (ACME, "amount"): (Decimal("1589.80"), OTHER_XML),
    (ACME, "amount_tax"): (Decimal("269.80"), OTHER_XML),
    (ACME, "partner_name"): ("Acme GmbH", OTHER_XML),
    (ATGP, "invoice_number"): ("RE-20190121/507", OTHER_XML),
    (ATGP, "date"): (dt.date(2019, 1, 21), OTHER_XML),
    (ATGP, "date_due"): (dt.date(2019, 2, 11), OTHER_XML),
    (ATGP, "amount"): (Decimal("571.04"), OTHER_XML),
    (ATGP, "amount_tax"): (Decimal("75.04"), OTHER_XML),
    (ATGP, "amount_untaxed"): (Decimal("496.00"), OTHER_XML),
    (ATGP, "vat"): ("DE136695976", OTHER_XML),
    (ATGP, "partner_name"): ("Bei Spiel GmbH", OTHER_XML),
    (AVOIR, "amount"): (Decimal("-233.47"), NEGATIVE),
    (AVOIR, "amount_tax"): (Decimal("-14.99"), NEGATIVE),
    (AVOIR, "amount_untaxed"): (Decimal("-218.48"), NEGATIVE),
    **{(file, "partner_name"): ("Au bon moulin SARL", "printed with its legal form; the XML omits it")
       for file in FNFE},
}


@dataclass(frozen=True)
class Check:
    field: str
    truth: object
    visible: object  # what the reader must return: the truth, or VISIBLE's value
    reason: str = ""

    @property
    def reachable(self) -> bool:
        return self.visible is not None


@dataclass(frozen=True)
class CorpusExpectation:
    file: str
    checks: tuple[Check, ...]


def _truth_value(key: str, value: object) -> object:
    if key in ("date", "date_due"):
        return dt.date.fromisoformat(str(value))
    if key.startswith("amount"):
        return Decimal(repr(value)).quantize(Decimal("0.01"))
    if key == "vat":
        return str(value).replace(" ", "")  # "DE 232 446 240" as printed; VAT ids are compared compact
    return value


def corpus_expectations() -> list[CorpusExpectation]:
    """The ground truth of every reference PDF, with what the page shows where they differ."""
    truth = json.loads((CORPUS / "expected_normalized.json").read_text(encoding="utf-8"))
    expectations = []
    for file, entry in truth.items():
        checks = []
        for key, value in entry["expected"].items():
            if key in TRUTH_FIELDS:
                expected = _truth_value(key, value)
                visible, reason = VISIBLE.get((file, key), (expected, ""))
                checks.append(Check(TRUTH_FIELDS[key], expected, visible, reason))
        expectations.append(CorpusExpectation(file, tuple(checks)))
    return expectations


def _read(file: str) -> ExtractedFields:
    extraction = read_invoice((CORPUS / file).read_bytes())
    assert extraction.problems == []
    return extraction.fields




@pytest.mark.parametrize("expectation", corpus_expectations() if CORPUS.is_dir() else [], ids=lambda e: e.file)
def test_reference_invoices_give_their_printed_values_exactly(expectation: CorpusExpectation) -> None:
    fields = _read(expectation.file)
    wrong = {check.field: (getattr(fields, check.field), check.visible) for check in expectation.checks
             if getattr(fields, check.field) != check.visible}
    assert wrong == {}


def test_every_exclusion_names_a_ground_truth_value() -> None:
    """A stale entry in VISIBLE would hide a regression instead of explaining a difference."""
    truth = json.loads((CORPUS / "expected_normalized.json").read_text(encoding="utf-8"))
    assert set(VISIBLE) <= {(file, key) for file, entry in truth.items() for key in entry["expected"]}


def test_zugferd_traps_are_read_from_the_page_not_the_embedded_xml() -> None:
    acme, atgp = _read(ACME), _read(ATGP)
    assert (acme.invoice_number, acme.invoice_date, acme.total) == ("42", dt.date(2014, 1, 31), Decimal("1589.80"))
    assert (atgp.invoice_number, atgp.total, atgp.supplier_name) == ("RE-20190121/507", Decimal("571.04"),
                                                                     "Bei Spiel GmbH")


PRINTED_BEYOND_THE_TRUTH = {
    "invoice2data/AzureInterior.pdf": {
        "reference": "CUSTREF123", "buyer_name": "YourCompany, Mitchell Admin",
        "vat_lines": [VatLine(rate=Decimal(15), net=Decimal("112.90"), vat=Decimal("16.94"))],
        "lines": [
            ExtractedLine(description="[17589684] Beeswax XL", quantity=Decimal("1.00"), unit="kg",
                          unit_price=Decimal("42.00"), amount=Decimal("42.00")),
            ExtractedLine(description="[FURN_7777] Office Chair", quantity=Decimal("1.00"), unit="Units",
                          unit_price=Decimal("70.00"), amount=Decimal("70.00")),
        ],
    },
    "invoice2data/coolblue1.pdf": {
        "vat_lines": [VatLine(rate=Decimal(21), net=Decimal("593.36"), vat=Decimal("124.61"))],
        "buyer_name": "Pino Bluebird", "invoice_address": ["Sessamestreet 32", "1025 RX Amsterdam"],
    },
    "invoice2data/SammyMaystoneLinesTest.pdf": {
        "due_date": dt.date(2022, 1, 31), "total": Decimal("127.50"), "delivery_address": "Taylor's Store",
        "lines": [
            ExtractedLine(description="Service A", quantity=Decimal(12), unit_price=Decimal("10.00"),
                          amount=Decimal("120.00")),
            ExtractedLine(description="Service B", quantity=Decimal(5), unit_price=Decimal("1.50"),
                          amount=Decimal("7.50")),
        ],
    },
    "zugferd-corpus/factur-x-fnfe/Facture_FR_BASICWL.pdf": {
        "reference": "PO445", "delivery_address": "Ma jolie boutique, 35 rue de la République, 69001 Lyon, France",
        "vat_lines": [VatLine(rate=Decimal(20), net=Decimal("81.90"), vat=Decimal("16.38")),
                      VatLine(rate=Decimal("5.5"), net=Decimal("543.00"), vat=Decimal("29.87"))],
    },
    "zugferd-corpus/factur-x-fnfe/Facture_UE_MINIMUM.pdf": {  # "11/17/2017" on the page makes it month first
        "invoice_date": dt.date(2017, 11, 3),
    },
    "zugferd-corpus/misc/MustangGnuaccountingBeispielRE-20201121_508.pdf": {"due_date": dt.date(2020, 12, 12)},
    "invoice2data/QualityHosting.pdf": {"due_date": dt.date(2014, 5, 21), "supplier_name": "QualityHosting AG",
                                        "supplier_vat_number": "DE232446240"},
    "invoice2data/NetpresseInvoice.pdf": {"supplier_name": None, "buyer_name": "ALEXINUX",
                                          "iban": "FR7610107002450061705231739"},
}


@pytest.mark.parametrize("file", sorted(PRINTED_BEYOND_THE_TRUTH))
def test_reference_invoices_give_what_else_they_print(file: str) -> None:
    fields = _read(file)
    expected = PRINTED_BEYOND_THE_TRUTH[file]
    assert {name: getattr(fields, name) for name in expected} == expected


# ---------------------------------------------------------------------------------------------
# Swedish invoices


def _hints(hints: list[ProjectHint] | tuple[ProjectHint, ...]) -> list[tuple[str, str, str | None]]:
    return sorted((hint.kind, hint.value, hint.label) for hint in hints)


def _assert_truth(pdf: bytes, truth_fields: ExtractedFields, truth_hints: tuple[ProjectHint, ...]) -> None:
    fields = read_invoice(pdf).fields
    wrong = {name: (getattr(fields, name), getattr(truth_fields, name)) for name in COMPARED_FIELDS
             if getattr(fields, name) != getattr(truth_fields, name)}
    assert wrong == {}
    assert _hints(fields.project_hints) == _hints(truth_hints)


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_generated_invoices_give_every_field_their_truth_promises(layout: str, scenario: str) -> None:
    invoice = make_invoice(scenario, seed=3, layout=layout)
    _assert_truth(invoice.pdf, invoice.truth.fields, invoice.truth.hints)


def test_a_realistic_mix_of_generated_invoices_is_read_exactly() -> None:
    for invoice in generate(60, seed=21):
        _assert_truth(invoice.pdf, invoice.truth.fields, invoice.truth.hints)


def test_the_fortnox_sandbox_archive_pdfs_are_read_exactly() -> None:
    """The supplier invoices the Fortnox sandbox serves from /3/archive, against what each one prints."""
    state = SandboxState("client-id", "client-secret")
    populate(state, supplier_invoices=40)
    documents = [file.source for file in state.archive.values() if not file.source.scanned]
    assert len(documents) > 30
    for document in documents:
        fields = read_invoice(render(document)).fields
        assert (
            fields.invoice_number, fields.invoice_date, fields.due_date, fields.total, fields.net, fields.vat_amount,
            fields.ocr, fields.bankgiro, fields.plusgiro, fields.supplier_name, fields.supplier_org_nr,
            fields.supplier_vat_number, fields.buyer_name, fields.reference, fields.our_reference,
            fields.reverse_charge,
        ) == (
            document.invoice_number, document.invoice_date, document.due_date, document.total, document.net,
            document.vat, document.ocr, document.supplier_bankgiro or None, document.supplier_plusgiro or None,
            document.supplier_name, document.supplier_org_number, document.supplier_vat_number,
            document.buyer_name, document.your_reference or None, document.our_reference or None,
            document.reverse_charge,
        )


SUPPLIER = dict(
    supplier_name="Västerås Byggplåt AB", supplier_address=("Stålgatan 14", "721 34 Västerås"),
    supplier_org_number="556904-1063", supplier_vat_number="SE556904106301", supplier_bankgiro="3779-4518",
    supplier_plusgiro="", supplier_phone="021-12 34 56", supplier_email="faktura@vasterasbyggplat.se",
    buyer_name=BUYER.name, buyer_address=BUYER.invoice_address, buyer_vat_number=BUYER.vat_number,
)


def _document(**changes: object) -> InvoiceDocument:
    lines = (InvoiceLine("Takplåt TP20 svart", 12, "m²", Decimal("169.00")),
             InvoiceLine("Fika till byggmöte", 2, "st", Decimal("485.00"), vat_rate=12))
    document = InvoiceDocument(
        layout="dotted", **SUPPLIER, invoice_number="2025-00412", invoice_date=dt.date(2025, 10, 3),
        due_date=dt.date(2025, 11, 2), terms_days=30, ocr="00087783", your_reference="Jasmine Andersson",
        our_reference="Per Holm", references=(("Projekt", "1313 Stender VB 1966"), ("AO", "WW1245")),
        lines=lines, vat_rows=(VatRow(25, Decimal("2028.00"), Decimal("507.00")),
                               VatRow(12, Decimal("970.00"), Decimal("116.40"))),
        net=Decimal("2998.00"), vat=Decimal("623.40"), total=Decimal("3621.40"), project_number="1313",
    )
    return replace(document, **changes)


def test_a_swedish_invoice_with_two_vat_rates_is_read_exactly() -> None:
    """Layout "dotted": DD.MM.YYYY, no-break-space thousands, "kr", a VAT column, "Er ref."."""
    extraction = read_invoice(render(_document()))
    assert extraction.problems == []
    assert extraction.fields == ExtractedFields(
        invoice_number="2025-00412", invoice_date=dt.date(2025, 10, 3), due_date=dt.date(2025, 11, 2),
        total=Decimal("3621.40"), net=Decimal("2998.00"), vat_amount=Decimal("623.40"),
        vat_lines=[VatLine(rate=Decimal(25), net=Decimal("2028.00"), vat=Decimal("507.00")),
                   VatLine(rate=Decimal(12), net=Decimal("970.00"), vat=Decimal("116.40"))],
        currency="SEK", ocr="00087783", bankgiro="3779-4518", supplier_name="Västerås Byggplåt AB",
        supplier_org_nr="556904-1063", supplier_vat_number="SE556904106301", buyer_name="Ekbacken Bygg AB",
        invoice_address=["Kungsängsvägen 21", "753 23 Uppsala"], reference="Jasmine Andersson",
        our_reference="Per Holm",
        lines=[ExtractedLine(description="Takplåt TP20 svart", quantity=Decimal(12), unit="m²",
                             unit_price=Decimal("169.00"), amount=Decimal("2028.00")),
               ExtractedLine(description="Fika till byggmöte", quantity=Decimal(2), unit="st",
                             unit_price=Decimal("485.00"), amount=Decimal("970.00"))],
        project_hints=[ProjectHint(kind="project_number", value="1313", label="Projekt"),
                       ProjectHint(kind="project_name", value="Stender VB 1966", label="Projekt"),
                       ProjectHint(kind="work_order", value="WW1245", label="AO"),
                       ProjectHint(kind="reference", value="Jasmine Andersson", label="Er ref.")],
    )


def test_a_reverse_charged_plusgiro_invoice_names_its_work_site() -> None:
    """Layout "boxed": labels above values; Plusgiro instead of Bankgiro; 0 % VAT under reverse charge."""
    document = _document(
        layout="boxed", supplier_bankgiro="", supplier_plusgiro="123456-6", reverse_charge=True,
        references=(("Arbetsplats", "Symmetrivägen 19, Uppsala"),), your_reference="",
        lines=(InvoiceLine("Grävmaskin 14 t med förare", 6, "tim", Decimal("1095.00"), vat_rate=0),),
        vat_rows=(VatRow(0, Decimal("6570.00"), Decimal("0.00")),), net=Decimal("6570.00"), vat=Decimal("0.00"),
        total=Decimal("6570.00"),
    )
    fields = read_invoice(render(document)).fields
    assert (fields.reverse_charge, fields.plusgiro, fields.bankgiro) == (True, "123456-6", None)
    assert (fields.total, fields.vat_amount) == (Decimal("6570.00"), Decimal("0.00"))
    assert fields.vat_lines == [VatLine(rate=Decimal(0), net=Decimal("6570.00"), vat=Decimal("0.00"))]
    assert fields.delivery_address == "Symmetrivägen 19, Uppsala"
    assert fields.project_hints == [ProjectHint(kind="address", value="Symmetrivägen 19, Uppsala", label="Arbetsplats")]


@pytest.mark.parametrize(("field", "wrong", "right", "read"), [
    ("bankgiro", {"supplier_bankgiro": "3779-4519"}, {"supplier_bankgiro": "3779-4518"}, "3779-4518"),
    ("bankgiro", {"supplier_bankgiro": "377-4518"}, {"supplier_bankgiro": "377-4510"}, "377-4510"),
    ("plusgiro", {"supplier_bankgiro": "", "supplier_plusgiro": "123456-7"},
     {"supplier_bankgiro": "", "supplier_plusgiro": "123456-6"}, "123456-6"),
    ("ocr", {"ocr": "00087784"}, {"ocr": "00087783"}, "00087783"),
    ("supplier_org_nr", {"supplier_org_number": "556904-1064"}, {"supplier_org_number": "556904-1063"},
     "556904-1063"),
    ("supplier_vat_number", {"supplier_vat_number": "SE556904106401", "reverse_charge": True},
     {"supplier_vat_number": "SE556904106301", "reverse_charge": True}, "SE556904106301"),
])
def test_a_wrong_check_digit_is_not_accepted(field: str, wrong: dict[str, object], right: dict[str, object],
                                             read: str) -> None:
    """In every layout. The buyer's own valid VAT number, printed in the Fakturaadress block and as
    "Köparens momsreg.nr" under reverse charge, must not stand in for the supplier's."""
    for layout in LAYOUTS:
        assert getattr(read_invoice(render(_document(layout=layout, **wrong))).fields, field) is None, layout
        assert getattr(read_invoice(render(_document(layout=layout, **right))).fields, field) == read, layout


# ---------------------------------------------------------------------------------------------
# Documents that cannot be read


def _pdf(pages: int, text: str = "Fakturanummer: 4711") -> bytes:
    document = pymupdf.open()
    for number in range(pages):
        document.new_page().insert_text((56, 72), f"{text} (sida {number + 1})" if number else text)
    return document.tobytes()


def _image_page(document: pymupdf.Document) -> None:
    page = document.new_page()
    pixmap = pymupdf.Pixmap(pymupdf.csGRAY, pymupdf.IRect(0, 0, 40, 40), False)
    pixmap.clear_with(200)
    page.insert_image(page.rect, pixmap=pixmap)


def _image_only() -> bytes:
    document = pymupdf.open()
    _image_page(document)
    return document.tobytes()


def _blank() -> bytes:
    document = pymupdf.open()
    document.new_page()
    return document.tobytes()


def _encrypted() -> bytes:
    document = pymupdf.open(stream=_pdf(1))
    return document.tobytes(encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="hemligt", owner_pw="ägare")


ZERO_PAGES = (b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
              b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
              b"trailer\n<< /Root 1 0 R >>\n%%EOF\n")


@pytest.mark.parametrize(("make", "code", "pages"), [
    (lambda: b"", "no_document", 0),
    (lambda: b"this is not a PDF", "corrupt", 0),
    (lambda: _pdf(1)[:300], "corrupt", 0),
    (_encrypted, "encrypted", 1),
    (lambda: ZERO_PAGES, "no_pages", 0),
    (_image_only, "image_only", 1),
    (_blank, "no_text", 1),
], ids=["empty", "not-a-pdf", "truncated", "encrypted", "zero-pages", "image-only", "blank"])
def test_a_bad_document_is_a_problem_not_an_exception(make: Callable[[], bytes], code: str, pages: int) -> None:
    extraction = read_invoice(make())
    assert [problem.code for problem in extraction.problems] == [code]
    assert (extraction.pages, extraction.method, extraction.fields) == (pages, "rules", ExtractedFields())


def test_problems_are_explained_to_the_reviewer_in_swedish() -> None:
    assert [p.message for p in read_invoice(_encrypted()).problems] == [
        "PDF:en är lösenordsskyddad och kan inte läsas."]
    assert [p.message for p in read_invoice(_image_only()).problems] == [
        "Sida 1 är en inskannad bild utan text och kan inte läsas automatiskt (ingen OCR); granska fakturan manuellt."]


def test_a_pdf_of_200_pages_is_flagged_and_only_its_first_pages_are_read() -> None:
    extraction = read_invoice(_pdf(200), max_pages=50)
    assert [(p.code, p.message) for p in extraction.problems] == [(
        "too_many_pages", "PDF:en har 200 sidor, fler än en faktura brukar ha; bara de första 50 lästes.")]
    assert (extraction.pages, extraction.fields.invoice_number) == (200, "4711")


def test_a_scanned_page_among_text_pages_is_flagged_and_the_text_is_still_read() -> None:
    document = pymupdf.open(stream=_pdf(1))
    _image_page(document)
    extraction = read_invoice(document.tobytes())
    assert [(p.code, p.message) for p in extraction.problems] == [(
        "image_only", "Sida 2 är en inskannad bild utan text och kan inte läsas automatiskt (ingen OCR); "
                      "granska fakturan manuellt.")]
    assert extraction.fields.invoice_number == "4711"


def test_damaged_bytes_never_raise() -> None:
    """Random damage (flipped bytes, cut files) to a compressed and an uncompressed invoice: MuPDF
    raises its own error types for some of it, and none of them may escape."""
    compressed = make_invoice("project_number_and_name", 1).pdf
    expanded = pymupdf.open(stream=compressed).tobytes(expand=255)
    rng = random.Random(2)
    for attempt in range(300):
        data = bytearray(expanded if attempt % 2 else compressed)
        for _ in range(rng.choice((1, 5, 50))):
            data[rng.randrange(len(data))] = rng.randrange(256)
        if attempt % 7 == 0:
            data = data[: rng.randrange(len(data))]
        extraction = read_invoice(bytes(data))
        assert {problem.code for problem in extraction.problems} <= {"corrupt", "no_pages", "no_text"}


@pytest.mark.parametrize("code", BAD_DOCUMENTS)
def test_the_corpus_bad_documents_are_refused_with_their_code(code: str) -> None:
    extraction = read_invoice(bad_document(code))
    assert [problem.code for problem in extraction.problems] == [code]


# ---------------------------------------------------------------------------------------------
# Amounts and dates as printed


@pytest.mark.parametrize(("printed", "amount"), [
    ("1 234,56", "1234.56"), ("1\u00a0234,56 kr", "1234.56"), ("1\u202f234,56", "1234.56"), ("1.234,56", "1234.56"),
    ("1,234.56", "1234.56"), ("€ 717,97", "717.97"), ("$4.11", "4.11"), ("-233,47 €", "-233.47"),
    ("8 947,00 SEK", "8947.00"), ("1.420", "1420.00"), ("300", "300.00"), ("0.025 €", None), ("2020-11-21", None),
    ("12 dagar", None),
])
def test_amounts_are_read_in_swedish_and_european_formats(printed: str, amount: str | None) -> None:
    assert money(printed) == (Decimal(amount) if amount else None)


@pytest.mark.parametrize(("printed", "date"), [
    ("2026-08-10", dt.date(2026, 8, 10)), ("10.08.2026", dt.date(2026, 8, 10)), ("8-9-2022", dt.date(2022, 9, 8)),
    ("28/11/2022", dt.date(2022, 11, 28)), ("21.05.14", dt.date(2014, 5, 21)), ("19 april 2014", dt.date(2014, 4, 19)),
    ("29 maart 2014", dt.date(2014, 3, 29)), ("7. Mai 2014", dt.date(2014, 5, 7)),
    ("1er janvier 2024", dt.date(2024, 1, 1)), ("March 20, 2023", dt.date(2023, 3, 20)),
    ("August 3 , 2014", dt.date(2014, 8, 3)), ("3 okt. 2025", dt.date(2025, 10, 3)), ("30 dagar netto", None),
])
def test_dates_are_read_in_the_corpus_languages(printed: str, date: dt.date | None) -> None:
    assert DateReader(printed).at_start(printed) == date


def test_slash_dates_are_month_first_only_where_the_document_says_so() -> None:
    assert DateReader("11/03/2017 11/17/2017").at_start("11/03/2017") == dt.date(2017, 11, 3)
    assert DateReader("11/03/2017 28/11/2017").at_start("11/03/2017") == dt.date(2017, 3, 11)

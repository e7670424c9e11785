"""The labelled invoice corpus prints what its truth says, and only that (seed 002, BC11)."""

from __future__ import annotations

import datetime as dt
import random
import re
from collections import Counter
from decimal import ROUND_HALF_UP, Decimal

import pymupdf
import pytest
from stdnum import luhn
from stdnum.se import orgnr
from stdnum.se import vat as se_vat

from connectors.sandbox import invoice_corpus as corpus
from connectors.sandbox.fortnox.pdf import LAYOUTS, kronor
from connectors.sandbox.fortnox.seed import populate
from connectors.sandbox.fortnox.state import SandboxState
from connectors.sandbox.invoice_corpus import (
    BUYER, COMPARED_FIELDS, SCENARIOS, CorpusInvoice, bad_document, compose, generate, make_invoice,
)
from connectors.sandbox.workcloud import Company, generate_company
from models.invoice_review import Band, ExtractedFields, ExtractedLine, ProjectHint, VatLine

COMPANY = generate_company(7)
PROJECTS = {project["project_number"]: project for project in COMPANY.projects}
ACTIVE = {number for number, project in PROJECTS.items() if project["status"] == "active"}
LEADERS = {project["project_leader"] for project in COMPANY.projects}


@pytest.fixture(scope="module")
def mix() -> list[CorpusInvoice]:
    return generate(150, seed=11, company=COMPANY)


@pytest.fixture(scope="module")
def grid() -> list[CorpusInvoice]:
    """Every scenario in every layout."""
    return [make_invoice(scenario, seed, layout=layout)
            for seed, scenario in enumerate(SCENARIOS) for layout in LAYOUTS]


def text_of(pdf: bytes) -> str:
    with pymupdf.open(stream=pdf, filetype="pdf") as document:
        return "\n".join(page.get_text() for page in document).replace("\xa0", " ")


def test_the_scenario_table_is_the_matchers_spec() -> None:
    assert {name: (scenario.band, scenario.weight) for name, scenario in SCENARIOS.items()} == {
        "project_number_and_name": (Band.AUTO_APPROVE, 24),
        "project_number_only": (Band.AUTO_APPROVE, 14),
        "work_order_only": (Band.AUTO_APPROVE, 18),
        "misspelled_name": (Band.SUGGESTION, 6),
        "address_only": (Band.SUGGESTION, 8),
        "reference_person_only": (Band.ALTERNATIVES, 8),
        "two_projects": (Band.ALTERNATIVES, 4),
        "closed_project": (Band.SUGGESTION, 4),
        "no_project": (Band.MANUAL, 5),
        "wrong_vat": (Band.SUGGESTION, 3),
        "totals_mismatch": (Band.SUGGESTION, 3),
        "image_only": (Band.MANUAL, 3),
    }


def test_same_seed_same_bytes_and_truth() -> None:
    first, again, other = generate(12, seed=3), generate(12, seed=3), generate(12, seed=4)
    assert [(i.pdf, i.truth) for i in first] == [(i.pdf, i.truth) for i in again]
    assert [i.pdf for i in first] != [i.pdf for i in other]
    assert make_invoice("wrong_vat", 5, layout="mono") == make_invoice("wrong_vat", 5, layout="mono")


def test_one_invoice_exactly() -> None:
    invoice = make_invoice("project_number_and_name", 1, layout="classic")
    assert (invoice.scenario, invoice.layout) == ("project_number_and_name", "classic")
    assert invoice.truth.fields == ExtractedFields(
        invoice_number="2025-00183", invoice_date=dt.date(2025, 9, 6), due_date=dt.date(2025, 10, 6),
        total=Decimal("189572.50"), net=Decimal("151658.00"), vat_amount=Decimal("37914.50"),
        vat_lines=[VatLine(rate=Decimal(25), net=Decimal("151658.00"), vat=Decimal("37914.50"))],
        currency="SEK", ocr="20250018312", bankgiro="218-5528", supplier_name="Enköpings Glas & Fönster AB",
        supplier_org_nr="556025-6637", supplier_vat_number="SE556025663701", buyer_name="Ekbacken Bygg AB",
        reference="Matilda Björklind", our_reference="Eva Dahl",
        lines=[
            ExtractedLine(description="Fönsterbänk marmor 1200", quantity=Decimal(16), unit="st",
                          unit_price=Decimal("1225.50"), amount=Decimal("19608.00")),
            ExtractedLine(description="Fönster 3-glas 1200x1200", quantity=Decimal(19), unit="st",
                          unit_price=Decimal("6950.00"), amount=Decimal("132050.00")),
        ],
    )
    assert invoice.truth.hints == (
        ProjectHint(kind="reference", value="Matilda Björklind", label="Er referens"),
        ProjectHint(kind="project_number", value="1374", label="Projektnummer"),
        ProjectHint(kind="project_name", value="Sigtunahem REN 2000", label="Projektnummer"),
    )
    assert (invoice.truth.project_number, invoice.truth.alternatives) == ("1374", ("1374",))
    assert (invoice.truth.expected_band, invoice.truth.findable) == (Band.AUTO_APPROVE, True)
    text = text_of(invoice.pdf)
    for printed in ("Fakturanummer:\n2025-00183", "Fakturadatum:\n2025-09-06", "Förfallodatum:\n2025-10-06",
                    "OCR-nummer:\n20250018312", "Er referens: Matilda Björklind", "Vår referens: Eva Dahl",
                    "Projektnummer: 1374 Sigtunahem REN 2000", "Summa exkl. moms\n151 658,00 SEK",
                    "Moms 25 %\n37 914,50 SEK", "Att betala\n189 572,50 SEK", "Bankgiro: 218-5528",
                    "Org.nr 556025-6637", "Momsreg.nr SE556025663701"):
        assert printed in text, printed


def printed_values(invoice: CorpusInvoice) -> list[str]:
    """What the page must show for its truth, written the way its layout writes it."""
    layout, fields = LAYOUTS[invoice.layout], invoice.truth.fields
    assert fields.invoice_date and fields.due_date and fields.total is not None and fields.net is not None

    def money(amount: Decimal) -> str:
        return kronor(amount) + layout.suffix

    values = [
        f"{layout.number}:" if layout.style == "side" else layout.number, fields.invoice_number or "",
        fields.invoice_date.strftime(layout.date_format), fields.due_date.strftime(layout.date_format),
        money(fields.total), money(fields.net), fields.ocr or "", fields.bankgiro or fields.plusgiro or "",
        fields.supplier_name or "", fields.supplier_org_nr or "", fields.supplier_vat_number or "",
        BUYER.name, BUYER.vat_number, fields.our_reference or "",
        *(money(line.vat) for line in fields.vat_lines),
        *(kronor(line.amount) for line in fields.lines), *(line.description for line in fields.lines),
        *(hint.value for hint in invoice.truth.hints), *(hint.label or "" for hint in invoice.truth.hints),
    ]
    if fields.reverse_charge:
        values += ["Omvänd betalningsskyldighet", f"Köparens momsreg.nr: {BUYER.vat_number}"]
    return values


def project_mentions(invoice: CorpusInvoice) -> dict[str, set[str]]:
    """Every project number, work order, name, site and leader of the company found on the page. Row
    descriptions ("Fönsterbänk marmor 1200") and printed names ("… VB 1966") are left out of the numbers."""
    text = text_of(invoice.pdf)
    rest = text
    for noise in [line.description for line in invoice.truth.fields.lines] + [
            hint.value for hint in invoice.truth.hints if hint.kind == "project_name"]:
        rest = rest.replace(noise, " ")
    return {
        "project_number": set(re.findall(r"(?<![\w\-,])(1\d{3})(?![\w\-,])", rest)) & set(PROJECTS),
        "work_order": set(re.findall(r"\bWW\d{4}\b", text)),
        "project_name": {p["project_name"] for p in COMPANY.projects if p["project_name"] in text},
        "address": {site for p in COMPANY.projects for site in (p["address"], corpus.abbreviate(p["address"]))
                    if site in text},
        "reference": {leader for leader in LEADERS if leader in text},
    }


def test_each_page_prints_its_truth_and_no_other_project(grid: list[CorpusInvoice],
                                                         mix: list[CorpusInvoice]) -> None:
    for invoice in grid + mix:
        if invoice.scenario == "image_only":
            continue
        text = text_of(invoice.pdf)
        for value in printed_values(invoice):
            assert value in text, (invoice.scenario, invoice.layout, value)
        expected: dict[str, set[str]] = {kind: set() for kind in ("project_number", "work_order", "project_name",
                                                                  "address", "reference")}
        for hint in invoice.truth.hints:
            if hint.kind != "reference" or hint.value in LEADERS:
                expected[hint.kind].add(hint.value)
        expected["project_name"] &= {p["project_name"] for p in COMPANY.projects}  # a misspelled name is none
        assert project_mentions(invoice) == expected, (invoice.scenario, invoice.layout)


def test_no_project_has_no_hint_at_all(grid: list[CorpusInvoice]) -> None:
    for invoice in (i for i in grid if i.scenario == "no_project"):
        assert not any(project_mentions(invoice).values())
        assert [hint.kind for hint in invoice.truth.hints] in ([], ["reference"])
        assert (invoice.truth.project_number, invoice.truth.expected_band, invoice.truth.findable) == (
            None, Band.MANUAL, False)
        assert invoice.truth.fields.reference in (None, *corpus.OFFICE)


def test_a_scan_has_no_text_and_no_fields(grid: list[CorpusInvoice]) -> None:
    for invoice in (i for i in grid if i.scenario == "image_only"):
        with pymupdf.open(stream=invoice.pdf, filetype="pdf") as document:
            assert all(page.get_text() == "" and len(page.get_images()) == 1 for page in document)
        assert invoice.truth.fields == ExtractedFields() and invoice.truth.hints == ()
        assert invoice.truth.project_number in PROJECTS
        assert (invoice.truth.expected_band, invoice.truth.findable) == (Band.MANUAL, False)


def test_identity_numbers_have_valid_check_digits(mix: list[CorpusInvoice]) -> None:
    read = [invoice.truth.fields for invoice in mix if invoice.scenario != "image_only"]
    assert orgnr.is_valid(BUYER.org_nr) and se_vat.is_valid(BUYER.vat_number)
    for fields in read:
        assert fields.ocr and luhn.is_valid(fields.ocr)
        assert orgnr.is_valid(fields.supplier_org_nr or "") and se_vat.is_valid(fields.supplier_vat_number or "")
        assert fields.supplier_vat_number == f"SE{(fields.supplier_org_nr or '').replace('-', '')}01"
        giro = fields.bankgiro or fields.plusgiro or ""
        assert luhn.is_valid(giro.replace("-", ""))
    assert {len(f.bankgiro) for f in read if f.bankgiro} == {8, 9}  # NNN-NNNN and NNNN-NNNN
    assert {re.fullmatch(r"\d{6}-\d", f.plusgiro) is not None for f in read if f.plusgiro} == {True}


def test_the_sums_add_up_except_where_they_should_not(mix: list[CorpusInvoice], grid: list[CorpusInvoice]) -> None:
    for invoice in mix + grid:
        fields = invoice.truth.fields
        if invoice.scenario == "image_only":
            continue
        rows = sum((line.amount for line in fields.lines), Decimal(0))
        assert all(line.quantity * line.unit_price == line.amount for line in fields.lines if line.unit_price)
        assert fields.vat_amount == sum((line.vat for line in fields.vat_lines), Decimal(0))
        rates_right = all(line.vat == (line.net * line.rate / 100).quantize(Decimal("0.01"), ROUND_HALF_UP)
                          for line in fields.vat_lines if line.net is not None)
        goods_rate = {line.rate for line in fields.vat_lines} - {Decimal(12), Decimal(6)}
        adds_up = rows == fields.net and fields.net + fields.vat_amount == fields.total
        if invoice.scenario == "wrong_vat":
            assert adds_up and (not rates_right or goods_rate == set()), invoice.truth
        elif invoice.scenario == "totals_mismatch":
            assert not adds_up and rates_right, invoice.truth
        else:
            assert adds_up and rates_right and goods_rate == ({Decimal(0)} if fields.reverse_charge else {25})


def test_the_mix_is_realistic(mix: list[CorpusInvoice]) -> None:
    scenarios = Counter(invoice.scenario for invoice in mix)
    assert set(scenarios) == set(SCENARIOS) and {invoice.layout for invoice in mix} == set(LAYOUTS)
    strong = scenarios["project_number_and_name"] + scenarios["project_number_only"] + scenarios["work_order_only"]
    assert strong > len(mix) / 2
    read = [invoice for invoice in mix if invoice.scenario != "image_only"]
    assert any(i.truth.fields.reverse_charge and i.truth.fields.vat_amount == 0 for i in read)
    assert any(len(i.truth.fields.vat_lines) > 1 for i in read)
    assert any(i.truth.fields.plusgiro for i in read) and any(i.truth.fields.bankgiro for i in read)
    assert any("." in (i.truth.fields.invoice_date or dt.date.min).strftime(LAYOUTS[i.layout].date_format)
               for i in read)
    documents = [pymupdf.open(stream=invoice.pdf, filetype="pdf") for invoice in mix]
    assert {document.page_count for document in documents} == {1, 2}
    assert not any(document.is_repaired for document in documents)  # well-formed, as MuPDF sees it


def test_a_long_invoice_continues_on_the_next_page(mix: list[CorpusInvoice]) -> None:
    invoice = next(i for i in mix if i.scenario != "image_only" and pymupdf.open(stream=i.pdf).page_count == 2)
    layout = LAYOUTS[invoice.layout]
    with pymupdf.open(stream=invoice.pdf, filetype="pdf") as document:
        first, second = (page.get_text().replace("\xa0", " ") for page in document)
    assert "Fortsättning på nästa sida" in first and layout.total not in first
    assert f"{layout.number}: {invoice.truth.fields.invoice_number}" in second and layout.total in second
    assert "Sida 1 (2)" in first and "Sida 2 (2)" in second


def test_matchers_answers_per_scenario(grid: list[CorpusInvoice]) -> None:
    leaders: dict[str, set[str]] = {}
    for number in ACTIVE:
        leaders.setdefault(PROJECTS[number]["project_leader"], set()).add(number)
    orders = {order["workorder_number"]: order["project_number"] for order in COMPANY.work_orders}
    for invoice in grid:
        truth, hints = invoice.truth, {hint.kind: hint.value for hint in invoice.truth.hints}
        if invoice.scenario == "work_order_only":
            assert orders[hints["work_order"]] == truth.project_number and truth.project_number in ACTIVE
        if invoice.scenario == "misspelled_name":
            name = PROJECTS[truth.project_number or ""]["project_name"]
            assert 1 <= corpus.distance(hints["project_name"], name) <= 2
            assert all(corpus.distance(hints["project_name"].lower(), p["project_name"].lower())
                       > corpus.distance(hints["project_name"].lower(), name.lower())
                       for p in COMPANY.projects if p["project_name"] != name)
        if invoice.scenario == "address_only":
            site = PROJECTS[truth.project_number or ""]["address"]
            assert hints["address"] in (site, corpus.abbreviate(site))
            assert truth.fields.delivery_address == hints["address"]
        if invoice.scenario == "reference_person_only":
            assert set(hints) == {"reference"} and len(leaders[hints["reference"]]) >= 2
            assert set(truth.alternatives) == leaders[hints["reference"]]
            assert truth.alternatives[0] == truth.project_number
            assert (truth.expected_band, truth.findable) == (Band.ALTERNATIVES, False)
        if invoice.scenario == "closed_project":
            assert PROJECTS[truth.project_number or ""]["status"] in ("completed", "inactive")
        if invoice.scenario == "two_projects":
            assert len(truth.alternatives) == 2 and set(truth.alternatives) <= ACTIVE
        expected = SCENARIOS[invoice.scenario].band
        assert truth.expected_band == expected
        assert truth.findable == (invoice.scenario not in ("reference_person_only", "no_project", "image_only"))


def test_two_projects_truth_is_the_larger_group() -> None:
    for seed in range(20):
        draft = compose("two_projects", random.Random(seed), COMPANY, corpus.SUPPLIERS[seed % len(corpus.SUPPLIERS)],
                        number="4711", invoice_date=dt.date(2025, 10, 1))
        sums: Counter[str] = Counter()
        for line in draft.document.lines:
            sums[line.section] += line.amount
        (larger, _), (smaller, _) = sums.most_common()
        assert sums[larger] > sums[smaller]
        numbers = [heading.split(": ", 1)[1].split(" ")[0] for heading in (larger, smaller)]
        assert tuple(numbers) == draft.truth.alternatives and numbers[0] == draft.truth.project_number


def test_a_leader_of_one_project_is_a_findable_suggestion() -> None:
    project = PROJECTS[min(ACTIVE)]
    draft = compose("reference_person_only", random.Random(1), Company([project], [], []), corpus.SUPPLIERS[0],
                    number="1", invoice_date=dt.date(2025, 10, 1))
    number = project["project_number"]
    assert (draft.truth.project_number, draft.truth.alternatives) == (number, (number,))
    assert draft.document.your_reference == project["project_leader"]
    assert (draft.truth.expected_band, draft.truth.findable) == (Band.SUGGESTION, True)


def test_compared_fields_are_exactly_the_filled_ones(mix: list[CorpusInvoice]) -> None:
    filled = set()
    for invoice in mix:
        filled |= invoice.truth.fields.model_dump(exclude_defaults=True).keys()
    assert filled | {"reverse_charge"} == set(COMPARED_FIELDS)


def test_bad_documents_fail_as_intended() -> None:
    encrypted = pymupdf.open(stream=bad_document("encrypted"), filetype="pdf")
    assert encrypted.needs_pass and encrypted.authenticate("fel") == 0
    assert encrypted.authenticate(corpus.PASSWORD) and "Faktura" in encrypted[0].get_text()
    with pytest.raises(pymupdf.FileDataError):
        pymupdf.open(stream=bad_document("corrupt"), filetype="pdf")
    empty = pymupdf.open(stream=bad_document("no_pages"), filetype="pdf")
    assert (empty.page_count, empty.is_repaired) == (0, False)
    long = pymupdf.open(stream=bad_document("too_many_pages"), filetype="pdf")
    assert long.page_count == corpus.TOO_MANY_PAGES == 200
    assert "Faktura" in long[0].get_text() and "Bilaga" in long[199].get_text()
    scan = pymupdf.open(stream=bad_document("image_only"), filetype="pdf")
    assert scan.page_count >= 1 and scan[0].get_text() == "" and scan[0].get_images()
    with pytest.raises(ValueError):
        bad_document("no_document")


def test_the_fortnox_archive_draws_from_the_corpus() -> None:
    state = SandboxState("id", "secret")
    populate(state, 7, supplier_invoices=150)
    records = {record["GivenNumber"]: record for record, _ in state.snapshot("supplierinvoices")}
    documents = {connection["SupplierInvoiceNumber"]: state.archive[connection["FileId"]].source
                 for connection, _ in state.snapshot("supplierinvoicefileconnections")}
    assert {document.layout for document in documents.values()} == set(LAYOUTS)
    assert any(d.project_number is None for d in documents.values()) and any(d.scanned for d in documents.values())
    for number, document in documents.items():
        record = records[number]
        assert (record["InvoiceNumber"], record["OCR"], record["DueDate"], Decimal(record["Total"]),
                Decimal(record["VAT"])) == (document.invoice_number, document.ocr, document.due_date.isoformat(),
                                            document.total, document.vat)
        assert record["Project"] in ("", document.project_number)

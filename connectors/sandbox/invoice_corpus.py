"""A labelled corpus of Swedish supplier-invoice PDFs with known truth (seed 002, BC11).

The invoice validation reads a supplier invoice, finds the project it belongs to and puts it
in a confidence band. To test it and to measure its accuracy we need invoices whose right
answer is known, in the variety real suppliers send: five layouts (`fortnox.pdf.LAYOUTS`),
Bankgiro or Plusgiro, 25 % VAT or mixed 25/12/6 %, reverse charge on construction services,
invoices that run over two pages, and the ways the project is (not) given. Each invoice is
made for a *scenario*, and its `Truth` says what a perfect reader extracts (`Truth.fields`,
comparable with `ExtractedFields` on `COMPARED_FIELDS`), what it points at (`Truth.hints`),
the project it belongs to and the band the matcher is built to give:

==========================  ===========================================================  ============
scenario                    what the invoice says about the project                      band
==========================  ===========================================================  ============
project_number_and_name     "1313 Stender VB 1966" under a project label                 AUTO_APPROVE
project_number_only         "1313" under a project label                                 AUTO_APPROVE
work_order_only             a WW number of an active project ("AO: WW1245")              AUTO_APPROVE
misspelled_name             no number; the name with 1–2 typos ("Stendr VB 1966")        SUGGESTION
address_only                only the work site, maybe "g." for "gatan"                   SUGGESTION
reference_person_only       only "Er referens: <leader of 2+ active projects>"           ALTERNATIVES
two_projects                two project numbers on row groups; truth = larger amount     ALTERNATIVES
closed_project              the number of a completed or inactive project                SUGGESTION
no_project                  no hint at all; project None                                 MANUAL
wrong_vat                   project number, but VAT is not 25 % of the net               SUGGESTION
totals_mismatch             project number, but rows or net + VAT do not add up          SUGGESTION
image_only                  a scanned page: no text layer, no field extractable          MANUAL
==========================  ===========================================================  ============

`Truth.findable` says whether a perfect matcher can name the true project first: not for
reference_person_only (one of the leader's projects; if the company has no leader of two
active projects, a leader of exactly one is used, and the band is SUGGESTION and findable),
not for no_project, and not for image_only (the project is on the image, but no text is).

`generate` makes a realistic mix (`WEIGHTS`), `make_invoice` one invoice of a scenario, and
`compose` the document and truth without rendering, which the Fortnox sandbox uses for its
archive. `bad_document` makes the PDFs a reader must refuse. The same seed gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import random
import unicodedata
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal

from connectors.sandbox.fortnox.entities import luhn_digit, ocr_number
from connectors.sandbox.fortnox.pdf import LAYOUTS, InvoiceDocument, InvoiceLine, Layout, VatRow, encrypt, render
from connectors.sandbox.fortnox.shapes import CENT
from connectors.sandbox.workcloud import Company, generate_company
from models.invoice_review import (
    Band, Buyer, DocumentProblemCode, ExtractedFields, ExtractedLine, HintKind, ProjectHint, VatLine,
)

Project = dict[str, str]  # a WorkCloud project row

# ---------------------------------------------------------------------------------------------
# Who sells what, to whom


def digits(rng: random.Random, count: int) -> str:
    return "".join(str(rng.randrange(10)) for _ in range(count))


def with_luhn(payload: str) -> str:
    return payload + luhn_digit(payload)


def _dashed(number: str) -> str:
    return f"{number[:6]}-{number[6:]}"


def org_number(rng: random.Random, first: str = "559") -> str:
    """An organisation number with a valid check digit; the third digit is >= 2, as for every legal person."""
    return _dashed(with_luhn(first + digits(rng, 9 - len(first))))


def bankgiro(rng: random.Random, length: int = 8) -> str:
    """``NNNN-NNNN`` (or ``NNN-NNNN`` for the older seven-digit numbers), Luhn check digit last."""
    number = with_luhn(str(rng.randrange(1, 10)) + digits(rng, length - 2))
    return f"{number[:-4]}-{number[-4:]}"


def plusgiro(rng: random.Random) -> str:
    """``NNNNNN-N``: six digits and their Luhn check digit."""
    number = with_luhn(str(rng.randrange(1, 10)) + digits(rng, 5))
    return f"{number[:-1]}-{number[-1]}"


def vat_number(org: str) -> str:
    """The Swedish VAT number of an organisation number: ``SE`` + its ten digits + ``01``."""
    return f"SE{org.replace('-', '')}01"


def invoice_number(supplier_index: int, sequence: int, year: int) -> str:
    """A supplier's own invoice number, in one of three styles real suppliers use."""
    plain = str(40000 + 37 * supplier_index + sequence)
    return (plain, f"{year}-{sequence:05d}", f"F{sequence:06d}")[supplier_index % 3]


def layout_for(supplier_index: int) -> str:
    """A supplier keeps one template; consecutive suppliers differ."""
    names = tuple(LAYOUTS)
    return names[(supplier_index - 1) % len(names)]


@dataclass(frozen=True)
class Trade:
    """What a kind of supplier sells, on which cost account; construction services are reverse charged."""

    name: str
    account: int
    items: tuple[tuple[str, str, str], ...]  # description, unit, list price
    construction: bool = False


TRADES = (
    Trade("Byggmaterial", 4010, (
        ("Regel 45x95 C24, 4,2 m", "st", "89.00"),
        ("Gipsskiva 13 mm 1200x2500", "st", "119.00"),
        ("OSB-skiva 12 mm 1220x2440", "st", "289.00"),
        ("Träskruv 4,2x55, 500 st", "fp", "245.00"),
        ("Mineralull 95 mm, 5,4 m²", "pkt", "399.00"),
    )),
    Trade("Plåt & Ventilation", 4010, (
        ("Takplåt TP20 svart", "m²", "169.00"),
        ("Spiralrör 125 mm", "m", "79.00"),
        ("Hängränna 125 mm", "m", "145.00"),
        ("Plåtslagare, montage", "tim", "645.00"),
    )),
    Trade("VVS", 4010, (
        ("Rör PEX 16 mm", "m", "24.00"),
        ("Kopparrör 15 mm", "m", "68.00"),
        ("Tvättställsblandare", "st", "1495.00"),
        ("Golvbrunn 110 mm", "st", "789.00"),
    )),
    Trade("El", 4010, (
        ("Kabel EKK 3G1,5", "m", "12.90"),
        ("Dosa infälld", "st", "18.50"),
        ("Jordfelsbrytare 40 A", "st", "1245.00"),
        ("Elektriker, arbete", "tim", "695.00"),
    )),
    Trade("Maskinuthyrning", 5220, (
        ("Hyra saxlift 8 m", "dygn", "1150.00"),
        ("Hyra byggställning", "v", "2450.00"),
        ("Transport till arbetsplats", "st", "950.00"),
    )),
    Trade("Schakt & Transport", 4600, (
        ("Grävmaskin 14 t med förare", "tim", "1095.00"),
        ("Lastbil med kran", "tim", "985.00"),
        ("Bortforsling av massor", "ton", "185.00"),
    ), construction=True),
    Trade("Container & Återvinning", 4600, (
        ("Container 10 m³, blandat avfall", "st", "3450.00"),
        ("Deponiavgift", "ton", "1250.00"),
    )),
    Trade("Färg & Tapet", 4010, (
        ("Väggfärg helmatt 10 l", "st", "1190.00"),
        ("Spackel 10 l", "st", "389.00"),
        ("Målartejp 50 mm", "st", "69.00"),
    )),
    Trade("Kakel & Klinker", 4010, (
        ("Kakel vit blank 15x15", "m²", "329.00"),
        ("Fästmassa 20 kg", "säck", "289.00"),
        ("Fog grå 5 kg", "st", "149.00"),
    )),
    Trade("Glas & Fönster", 4010, (
        ("Fönster 3-glas 1200x1200", "st", "6950.00"),
        ("Fönsterbänk marmor 1200", "st", "1290.00"),
    )),
    Trade("Ställningar", 4600, (
        ("Ställningsmontage", "tim", "595.00"),
        ("Ställningshyra", "v", "2200.00"),
    ), construction=True),
)
LOW_VAT_ITEMS = (  # legitimately not 25 %: food for a site meeting, a book; description, unit, price, rate
    ("Fika till byggmöte", "st", "485.00", 12),
    ("Lunch, arbetsplatsmöte", "st", "1140.00", 12),
    ("Byggregler BBR, handbok", "st", "695.00", 6),
)


_BUYER_ORG_NR = _dashed(with_luhn("559138124"))
BUYER = Buyer(name="Ekbacken Bygg AB", org_nr=_BUYER_ORG_NR, vat_number=vat_number(_BUYER_ORG_NR),
              invoice_address=("Kungsängsvägen 21", "753 23 Uppsala"))
"""The sandbox company every invoice is addressed to (the builder of `workcloud.generate_company`)."""
OFFICE = ("Matilda Björklind", "Rebecka Englund")  # the buyer's office staff: a reference that leads no project
CONTACTS = ("Per Holm", "Anna Berg", "Mikael Ek", "Sara Lund", "Johan Strand", "Eva Dahl", "Peter Wall", "Lena Fors")
"""Suppliers' own people ("Vår referens"), never a name of the buyer's company."""


@dataclass(frozen=True)
class Supplier:
    """A supplier as its invoices show it."""

    name: str
    address: tuple[str, ...]
    org_number: str
    bankgiro: str  # "" when paid by Plusgiro
    plusgiro: str
    phone: str
    email: str
    contact: str
    trade: Trade
    terms_days: int
    layout: str


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return "".join(char for char in ascii_text if char.isalnum())


def _supplier(index: int, name: str, street: str, town: str, trade_name: str) -> Supplier:
    rng = random.Random(f"invoice-corpus:supplier:{name}")
    org = org_number(rng, "556")
    giro = rng.choice(("bankgiro8", "bankgiro8", "bankgiro7", "plusgiro"))
    return Supplier(
        name=name, address=(street, town), org_number=org,
        bankgiro=bankgiro(rng, int(giro[-1])) if giro.startswith("bankgiro") else "",
        plusgiro=plusgiro(rng) if giro == "plusgiro" else "",
        phone=f"010-{rng.randrange(100, 999)} {rng.randrange(10, 99)} {rng.randrange(10, 99)}",
        email=f"faktura@{_slug(name.removesuffix(' AB'))}.se", contact=CONTACTS[index % len(CONTACTS)],
        trade=next(trade for trade in TRADES if trade.name == trade_name), terms_days=rng.choice((30, 30, 20, 10)),
        layout=layout_for(index),
    )


SUPPLIERS = tuple(_supplier(index, *row) for index, row in enumerate((
    ("Västerås Byggplåt AB", "Stålgatan 14", "721 34 Västerås", "Plåt & Ventilation"),
    ("Krontak AB", "Verkstadsvägen 6", "745 37 Enköping", "Plåt & Ventilation"),
    ("Ekohus Byggvaror AB", "Bolandsgatan 9", "753 23 Uppsala", "Byggmaterial"),
    ("Fyrislunds Bygghandel AB", "Fyrislundsgatan 68", "754 50 Uppsala", "Byggmaterial"),
    ("Mälardalens Schakt & Transport AB", "Rapsgatan 3", "754 49 Uppsala", "Schakt & Transport"),
    ("Upplands Ställningar AB", "Industrigatan 22", "196 37 Kungsängen", "Ställningar"),
    ("Sigtuna VVS AB", "Hamnesplanaden 4", "193 30 Sigtuna", "VVS"),
    ("Bålsta El & Tele AB", "Kumlagatan 11", "746 32 Bålsta", "El"),
    ("Märsta Maskinuthyrning AB", "Söderhamnsgatan 7", "195 60 Märsta", "Maskinuthyrning"),
    ("Uppsala Container & Återvinning AB", "Fältspatsgatan 2", "753 28 Uppsala", "Container & Återvinning"),
    ("Tierps Färg & Tapet AB", "Vaksalagatan 30", "815 38 Tierp", "Färg & Tapet"),
    ("Norrtälje Kakel & Klinker AB", "Kungsgatan 41", "761 30 Norrtälje", "Kakel & Klinker"),
    ("Enköpings Glas & Fönster AB", "Verkstadsvägen 19", "745 37 Enköping", "Glas & Fönster"),
), start=1))
"""The suppliers of `generate`; the Fortnox sandbox has its own and passes them to `compose`."""

# ---------------------------------------------------------------------------------------------
# What an invoice says about its project

PROJECT_LABELS = ("Projekt", "Projektnr", "Projektnummer", "Märkning", "Ert projekt")
ORDER_LABELS = ("Arbetsorder", "AO", "Ert ordernr")
SITE_LABELS = ("Arbetsplats", "Leveransadress", "Levererat till")
SECTION_LABELS = ("Märkning", "Projekt", "Ert projekt")


@dataclass(frozen=True)
class _Registry:
    """The company's projects, indexed the ways the scenarios pick them."""

    active: list[Project]
    closed: list[Project]
    orders: list[dict[str, str]]  # work orders of active projects
    names: list[str]  # every project's name
    named: list[Project]  # active projects whose name no other project has
    sited: list[Project]  # active projects whose work site no other project has
    leaders: dict[str, list[str]]  # project leader -> the active projects they lead

    @classmethod
    def of(cls, company: Company) -> _Registry:
        names = Counter(p["project_name"] for p in company.projects)
        sites = Counter(p["address"] for p in company.projects)
        active = [p for p in company.projects if p["status"] == "active"]
        leaders: dict[str, list[str]] = {}
        for project in active:
            leaders.setdefault(project["project_leader"], []).append(project["project_number"])
        return cls(
            active=active,
            closed=[p for p in company.projects if p["status"] != "active"],
            orders=[o for o in company.work_orders if o["status"] == "active"],
            names=list(names),
            named=[p for p in active if names[p["project_name"]] == 1],
            sited=[p for p in active if sites[p["address"]] == 1],
            leaders=leaders,
        )


def _one(rng: random.Random, projects: list[Project], what: str) -> Project:
    if not projects:
        raise ValueError(f"the company has no {what}")
    return rng.choice(projects)


@dataclass(frozen=True)
class Plan:
    """What a scenario prints about the project, and what a perfect matcher concludes from it."""

    project: str | None
    alternatives: tuple[str, ...]  # what a matcher should list, the true project first
    references: tuple[tuple[str, str], ...] = ()  # (label, value) in the header
    reference: str = ""  # the buyer's reference ("Er referens"); "" prints none
    sections: tuple[tuple[str, str], ...] = ()  # (heading, project) of row groups, in printed order
    hints: tuple[ProjectHint, ...] = ()  # of the references and sections, in printed order
    band: Band | None = None  # when not the scenario's own
    findable: bool = True  # a perfect matcher names `project` first


def _hint(kind: HintKind, value: str, label: str) -> ProjectHint:
    return ProjectHint(kind=kind, value=value, label=label)


def _project_text(project: Project, label: str, with_name: bool) -> tuple[str, tuple[ProjectHint, ...]]:
    number, name = project["project_number"], project["project_name"]
    if with_name:
        return f"{number} {name}", (_hint("project_number", number, label), _hint("project_name", name, label))
    return number, (_hint("project_number", number, label),)


def _office(rng: random.Random) -> str:
    """Someone at the buyer's office, or nobody."""
    return rng.choice((*OFFICE, "", ""))


def _numbered(rng: random.Random, project: Project, with_name: bool, site: bool = False) -> Plan:
    """The project under a project label, perhaps with its site and its leader as reference."""
    label = rng.choice(PROJECT_LABELS)
    value, hints = _project_text(project, label, with_name)
    references = [(label, value)]
    if site:
        site_label = rng.choice(SITE_LABELS)
        references.append((site_label, project["address"]))
        hints += (_hint("address", project["address"], site_label),)
    reference = project["project_leader"] if rng.random() < 0.5 else _office(rng)
    number = project["project_number"]
    return Plan(number, (number,), tuple(references), reference, hints=hints)


def _number_and_name(rng: random.Random, registry: _Registry) -> Plan:
    return _numbered(rng, _one(rng, registry.active, "active project"), True, site=rng.random() < 0.3)


def _number_only(rng: random.Random, registry: _Registry) -> Plan:
    return _numbered(rng, _one(rng, registry.active, "active project"), False)


def _number_either_way(rng: random.Random, registry: _Registry) -> Plan:
    return _numbered(rng, _one(rng, registry.active, "active project"), rng.random() < 0.5)


def _closed(rng: random.Random, registry: _Registry) -> Plan:
    return _numbered(rng, _one(rng, registry.closed, "completed or inactive project"), rng.random() < 0.5)


def _work_order(rng: random.Random, registry: _Registry) -> Plan:
    if not registry.orders:
        raise ValueError("the company has no work order of an active project")
    order = rng.choice(registry.orders)
    label = rng.choice(ORDER_LABELS)
    number = order["project_number"]
    return Plan(number, (number,), ((label, order["workorder_number"]),), _office(rng),
                hints=(_hint("work_order", order["workorder_number"], label),))


def distance(a: str, b: str) -> int:
    """Edits that turn `a` into `b`, a swap of neighbours counting as one (optimal string alignment)."""
    rows = [list(range(len(b) + 1))]
    for i, char in enumerate(a, start=1):
        row = [i]
        for j, other in enumerate(b, start=1):
            row.append(min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + (char != other)))
            if i > 1 and j > 1 and char == b[j - 2] and a[i - 2] == other:
                row[j] = min(row[j], rows[-2][j - 2] + 1)
        rows.append(row)
    return rows[-1][-1]


def _typo(rng: random.Random, name: str) -> str:
    """One slip of the keyboard on a letter: dropped, doubled, swapped with the next, or replaced."""
    letters = [i for i, char in enumerate(name) if char.isalpha()]
    i = rng.choice(letters)
    kind = rng.choice(("drop", "double", "swap", "replace"))
    if kind == "drop":
        return name[:i] + name[i + 1:]
    if kind == "double":
        return name[:i] + name[i] + name[i:]
    if kind == "swap" and i + 1 < len(name) and name[i + 1].isalpha() and name[i + 1] != name[i]:
        return name[:i] + name[i + 1] + name[i] + name[i + 2:]
    replacement = rng.choice([c for c in "aeiourstnl" if c != name[i].lower()])
    return name[:i] + (replacement.upper() if name[i].isupper() else replacement) + name[i + 1:]


def _misspelled(rng: random.Random, registry: _Registry) -> Plan:
    """The name with one or two typos, still nearer to its project's name than to any other."""
    for _ in range(1000):
        project = _one(rng, registry.named, "active project with a name of its own")
        name = project["project_name"]
        typed = name
        for _ in range(rng.choice((1, 2))):
            typed = _typo(rng, typed)
        if any(real in typed for real in registry.names):  # "SStender VB 1966" still holds the name
            continue
        mine = distance(typed.lower(), name.lower())
        nearest_other = min((distance(typed.lower(), other.lower()) for other in registry.names if other != name),
                            default=mine + 1)
        if 0 < mine < nearest_other:
            break
    else:
        raise ValueError("the company's project names are too alike to misspell one unambiguously")
    label = rng.choice(PROJECT_LABELS)
    number = project["project_number"]
    return Plan(number, (number,), ((label, typed),), _office(rng), hints=(_hint("project_name", typed, label),))


def abbreviate(address: str) -> str:
    """``Drottninggatan 12, Uppsala`` as suppliers shorten it: ``Drottningg. 12, Uppsala``."""
    return address.replace("gatan ", "g. ", 1)


def _address(rng: random.Random, registry: _Registry) -> Plan:
    project = _one(rng, registry.sited, "active project with a work site of its own")
    site = abbreviate(project["address"]) if rng.random() < 0.5 else project["address"]
    label = rng.choice(SITE_LABELS)
    number = project["project_number"]
    return Plan(number, (number,), ((label, site),), _office(rng), hints=(_hint("address", site, label),))


def _reference_person(rng: random.Random, registry: _Registry) -> Plan:
    """Only the buyer's reference: a leader of two or more active projects (else of exactly one)."""
    several = sorted(leader for leader, projects in registry.leaders.items() if len(projects) > 1)
    leader = rng.choice(several or sorted(registry.leaders))
    projects = tuple(registry.leaders[leader])
    truth = rng.choice(projects)
    others = tuple(p for p in projects if p != truth)
    if others:
        return Plan(truth, (truth, *others), reference=leader, findable=False)
    return Plan(truth, (truth,), reference=leader, band=Band.SUGGESTION)


def _two_projects(rng: random.Random, registry: _Registry) -> Plan:
    """Rows in two groups, each headed by its own project; the larger group is the truth (`compose` sees to it)."""
    if len(registry.active) < 2:
        raise ValueError("the company has fewer than two active projects")
    truth, other = rng.sample(registry.active, 2)
    label = rng.choice(SECTION_LABELS)
    with_name = rng.random() < 0.5
    printed = []
    for project in rng.sample((truth, other), 2):
        value, hints = _project_text(project, label, with_name)
        printed.append((f"{label}: {value}", project["project_number"], hints))
    numbers = (truth["project_number"], other["project_number"])
    return Plan(numbers[0], numbers, reference=_office(rng), sections=tuple((h, p) for h, p, _ in printed),
                hints=tuple(hint for _, _, hints in printed for hint in hints))


def _nothing(rng: random.Random, registry: _Registry) -> Plan:
    return Plan(None, (), reference=_office(rng), findable=False)


@dataclass(frozen=True)
class Scenario:
    name: str
    band: Band
    weight: float  # share of a realistic mix, in percent
    plan: Callable[[random.Random, _Registry], Plan]


SCENARIOS = {scenario.name: scenario for scenario in (
    Scenario("project_number_and_name", Band.AUTO_APPROVE, 24, _number_and_name),
    Scenario("project_number_only", Band.AUTO_APPROVE, 14, _number_only),
    Scenario("work_order_only", Band.AUTO_APPROVE, 18, _work_order),
    Scenario("misspelled_name", Band.SUGGESTION, 6, _misspelled),
    Scenario("address_only", Band.SUGGESTION, 8, _address),
    Scenario("reference_person_only", Band.ALTERNATIVES, 8, _reference_person),
    Scenario("two_projects", Band.ALTERNATIVES, 4, _two_projects),
    Scenario("closed_project", Band.SUGGESTION, 4, _closed),
    Scenario("no_project", Band.MANUAL, 5, _nothing),
    Scenario("wrong_vat", Band.SUGGESTION, 3, _number_either_way),
    Scenario("totals_mismatch", Band.SUGGESTION, 3, _number_either_way),
    Scenario("image_only", Band.MANUAL, 3, _number_either_way),
)}
WEIGHTS = {name: scenario.weight for name, scenario in SCENARIOS.items()}


def pick_scenario(rng: random.Random, weights: Mapping[str, float] | None = None) -> str:
    mix = weights or WEIGHTS
    return rng.choices(list(mix), weights=list(mix.values()))[0]

# ---------------------------------------------------------------------------------------------
# Rows and amounts


def _rows(rng: random.Random, trade: Trade, count: int, section: str = "") -> list[InvoiceLine]:
    picks = rng.sample(trade.items, count) if count <= len(trade.items) else rng.choices(trade.items, k=count)
    return [
        InvoiceLine(description, rng.randrange(1, 25) * (5 if unit == "m" else 1), unit,
                    (Decimal(price) * Decimal(rng.randrange(92, 109)) / 100).quantize(CENT, ROUND_HALF_UP),
                    section=section)
        for description, unit, price in picks
    ]


def _group_rows(rng: random.Random, trade: Trade, sections: tuple[tuple[str, str], ...],
                truth: str | None) -> list[InvoiceLine]:
    """Rows of each section; the largest group goes under the true project's heading."""
    groups = [_rows(rng, trade, rng.randrange(2, 5)) for _ in sections]
    groups.sort(key=lambda rows: sum(row.amount for row in rows), reverse=True)
    if len(groups) > 1 and sum(r.amount for r in groups[0]) == sum(r.amount for r in groups[1]):
        groups[0] += _rows(rng, trade, 1)
    order = sorted(range(len(sections)), key=lambda i: sections[i][1] != truth)  # the truth's section first
    placed: dict[int, list[InvoiceLine]] = {i: group for i, group in zip(order, groups, strict=True)}
    return [replace(row, section=sections[i][0]) for i in range(len(sections)) for row in placed[i]]


def vat_rows(lines: tuple[InvoiceLine, ...]) -> tuple[VatRow, ...]:
    """One VAT line per rate, highest first; Swedish VAT rounds half up."""
    bases: dict[int, Decimal] = {}
    for line in lines:
        bases[line.vat_rate] = bases.get(line.vat_rate, Decimal(0)) + line.amount
    return tuple(VatRow(rate, base, (base * rate / 100).quantize(CENT, ROUND_HALF_UP))
                 for rate, base in sorted(bases.items(), reverse=True))


@dataclass(frozen=True)
class _Amounts:
    lines: tuple[InvoiceLine, ...]
    vat_rows: tuple[VatRow, ...]
    net: Decimal
    total: Decimal


def _amounts(rng: random.Random, scenario: str, lines: tuple[InvoiceLine, ...]) -> _Amounts:
    """The printed totals: right, or wrong the way `scenario` says."""
    net = sum((line.amount for line in lines), Decimal(0))
    if scenario == "wrong_vat" and rng.random() < 0.5:  # building goods at the reduced rate
        lines = tuple(replace(line, vat_rate=12) for line in lines)
        rows = vat_rows(lines)
    elif scenario == "wrong_vat":  # 25 % printed, 20 % charged (a share of the gross, not of the net)
        rows = (VatRow(25, net, (net / 5).quantize(CENT, ROUND_HALF_UP)),)
    else:
        rows = vat_rows(lines)
    total = net + sum((row.vat for row in rows), Decimal(0))
    if scenario == "totals_mismatch":
        error = Decimal(rng.choice((450, 950, 1250, 2400)))
        if rng.random() < 0.5:  # a row left out: the net (and the VAT on it) is more than the rows
            net += error
            (rate,) = {row.rate for row in rows}  # one rate: these get no reduced-rate rows
            rows = (VatRow(rate, net, (net * rate / 100).quantize(CENT, ROUND_HALF_UP)),)
            total = net + rows[0].vat
        else:  # the rows add up, net + VAT is not the total
            total += error
    return _Amounts(lines, rows, net, total)


# ---------------------------------------------------------------------------------------------
# Invoices

COMPARED_FIELDS = (
    "invoice_number", "invoice_date", "due_date", "total", "net", "vat_amount", "vat_lines", "currency", "ocr",
    "bankgiro", "plusgiro", "supplier_name", "supplier_org_nr", "supplier_vat_number", "buyer_name", "reference",
    "our_reference", "delivery_address", "reverse_charge", "lines",
)
"""The `ExtractedFields` a `Truth` fills: everything the page states outright."""


@dataclass(frozen=True)
class Truth:
    """What a perfect reader and matcher conclude from one invoice.

    `fields.vat_lines` give, per printed VAT rate, the net it applies to (the invoice's net when
    there is one rate, 0 % with the net under reverse charge). `hints` are the project-pointing
    texts as printed: "1313 Stender VB 1966" under "Projekt" is a project_number hint "1313"
    and a project_name hint "Stender VB 1966", both labelled "Projekt"; an "Er referens" is a
    reference hint; a work site an address hint.
    """

    fields: ExtractedFields
    hints: tuple[ProjectHint, ...]
    project_number: str | None
    alternatives: tuple[str, ...]  # the projects a matcher should list, the true one first
    expected_band: Band
    findable: bool


@dataclass(frozen=True)
class CorpusInvoice:
    pdf: bytes
    scenario: str
    layout: str
    truth: Truth


@dataclass(frozen=True)
class Draft:
    """An invoice composed but not yet rendered: the Fortnox archive renders it on first download."""

    scenario: str
    document: InvoiceDocument
    truth: Truth

    def render(self) -> CorpusInvoice:
        return CorpusInvoice(render(self.document), self.scenario, self.document.layout, self.truth)


def _invoice_rows(rng: random.Random, scenario: str, plan: Plan, trade: Trade, template: Layout,
                  reverse_charge: bool) -> tuple[InvoiceLine, ...]:
    """Rows grouped per project, a handful, or (now and then) enough to run onto a second page; at
    0 % under reverse charge, else sometimes with a reduced-rate row where the template shows rates."""
    if plan.sections:
        lines = _group_rows(rng, trade, plan.sections, plan.project)
    elif rng.random() < 0.06:
        lines = _rows(rng, trade, rng.randrange(28, 41))
    else:
        lines = _rows(rng, trade, rng.randrange(1, len(trade.items) + 1))
    if reverse_charge:
        return tuple(replace(line, vat_rate=0) for line in lines)
    plain = not plan.sections and scenario not in ("wrong_vat", "totals_mismatch")  # keep their sums simple
    if template.vat_column and plain and rng.random() < 0.15:
        description, unit, price, rate = rng.choice(LOW_VAT_ITEMS)
        lines.append(InvoiceLine(description, rng.randrange(1, 4), unit, Decimal(price), rate))
    return tuple(lines)


def _fields(document: InvoiceDocument, plan: Plan) -> ExtractedFields:
    if document.scanned:
        return ExtractedFields()
    return ExtractedFields(
        invoice_number=document.invoice_number,
        invoice_date=document.invoice_date,
        due_date=document.due_date,
        total=document.total,
        net=document.net,
        vat_amount=document.vat,
        vat_lines=[VatLine(rate=Decimal(row.rate), net=row.base, vat=row.vat)
                   for row in document.printed_vat_rows],
        currency=document.currency,
        ocr=document.ocr,
        bankgiro=document.supplier_bankgiro or None,
        plusgiro=document.supplier_plusgiro or None,
        supplier_name=document.supplier_name,
        supplier_org_nr=document.supplier_org_number,
        supplier_vat_number=document.supplier_vat_number,
        buyer_name=document.buyer_name,
        reference=document.your_reference or None,
        our_reference=document.our_reference or None,
        delivery_address=next((hint.value for hint in plan.hints if hint.kind == "address"), None),
        reverse_charge=document.reverse_charge,
        lines=[ExtractedLine(description=line.description, quantity=Decimal(line.quantity), unit=line.unit,
                             unit_price=line.price, amount=line.amount, section=line.section or None)
               for line in document.lines],
    )


def compose(scenario: str, rng: random.Random, company: Company, supplier: Supplier, *, number: str,
            invoice_date: dt.date, layout: str | None = None) -> Draft:
    """One invoice of `scenario` from `supplier` to `BUYER`, drawn from `rng`, with its truth."""
    spec = SCENARIOS[scenario]
    template = LAYOUTS[layout or supplier.layout]
    plan = spec.plan(rng, _Registry.of(company))
    reverse_charge = supplier.trade.construction and scenario != "wrong_vat"
    amounts = _amounts(rng, scenario, _invoice_rows(rng, scenario, plan, supplier.trade, template, reverse_charge))
    document = InvoiceDocument(
        layout=template.name,
        supplier_name=supplier.name,
        supplier_address=supplier.address,
        supplier_org_number=supplier.org_number,
        supplier_vat_number=vat_number(supplier.org_number),
        supplier_bankgiro=supplier.bankgiro,
        supplier_plusgiro=supplier.plusgiro,
        supplier_phone=supplier.phone,
        supplier_email=supplier.email,
        buyer_name=BUYER.name,
        buyer_address=BUYER.invoice_address,
        buyer_vat_number=BUYER.vat_number,
        invoice_number=number,
        invoice_date=invoice_date,
        due_date=invoice_date + dt.timedelta(days=supplier.terms_days),
        terms_days=supplier.terms_days,
        ocr=ocr_number("".join(char for char in number if char.isdigit())),
        your_reference=plan.reference,
        our_reference=supplier.contact,
        references=plan.references,
        lines=amounts.lines,
        vat_rows=amounts.vat_rows,
        net=amounts.net,
        vat=sum((row.vat for row in amounts.vat_rows), Decimal(0)),
        total=amounts.total,
        project_number=plan.project,
        reverse_charge=reverse_charge,
        scanned=scenario == "image_only",
    )
    reference = (_hint("reference", plan.reference, template.your_reference),) if plan.reference else ()
    truth = Truth(
        fields=_fields(document, plan),
        hints=() if document.scanned else reference + plan.hints,
        project_number=plan.project,
        alternatives=plan.alternatives,
        expected_band=plan.band or spec.band,
        findable=plan.findable and not document.scanned,
    )
    return Draft(scenario, document, truth)


LATEST = dt.date(2025, 11, 14)  # invoices of `generate` and `make_invoice` are dated in the 120 days before


def _standalone(rng: random.Random, scenario: str, company: Company, supplier_index: int, sequence: int,
                layout: str | None) -> CorpusInvoice:
    invoice_date = LATEST - dt.timedelta(days=rng.randrange(120))
    supplier = SUPPLIERS[supplier_index - 1]
    return compose(scenario, rng, company, supplier, layout=layout, invoice_date=invoice_date,
                   number=invoice_number(supplier_index, sequence, invoice_date.year)).render()


def make_invoice(scenario: str, seed: int = 0, company: Company | None = None,
                 layout: str | None = None) -> CorpusInvoice:
    """One invoice of `scenario` (in `layout`, else its supplier's), the same for the same arguments."""
    rng = random.Random(f"invoice-corpus:{scenario}:{seed}:{layout}")
    return _standalone(rng, scenario, company or generate_company(), rng.randrange(1, len(SUPPLIERS) + 1),
                       rng.randrange(10, 900), layout)


def generate(count: int, seed: int = 7, company: Company | None = None,
             weights: Mapping[str, float] | None = None) -> list[CorpusInvoice]:
    """`count` invoices in the mix of `weights` (default `WEIGHTS`) to the company of `seed`."""
    company = company or generate_company(seed)
    rng = random.Random(f"invoice-corpus:{seed}")
    sequences = [rng.randrange(10, 900) for _ in SUPPLIERS]
    invoices = []
    for _ in range(count):
        index = rng.randrange(1, len(SUPPLIERS) + 1)
        sequences[index - 1] += 1
        invoices.append(_standalone(rng, pick_scenario(rng, weights), company, index, sequences[index - 1], None))
    return invoices


# ---------------------------------------------------------------------------------------------
# Documents a reader must refuse

PASSWORD = "hemligt"
BAD_DOCUMENTS: tuple[DocumentProblemCode, ...] = ("encrypted", "corrupt", "no_pages", "too_many_pages", "image_only")
TOO_MANY_PAGES = 200


def _zero_pages() -> bytes:
    """A well-formed PDF whose page tree is empty, written by hand: MuPDF refuses to save no pages."""
    objects = (b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [] /Count 0 >>")
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    start = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, start)
    return bytes(out)


def bad_document(problem: DocumentProblemCode, seed: int = 0) -> bytes:
    """A PDF with `problem` (one of `BAD_DOCUMENTS`): encrypted with `PASSWORD`, truncated and garbled,
    without pages, with `TOO_MANY_PAGES` pages (an invoice and its delivery notes), or a scan."""
    if problem == "no_pages":
        return _zero_pages()
    if problem == "image_only":
        return make_invoice("image_only", seed).pdf
    draft = compose("project_number_only", random.Random(f"invoice-corpus:bad:{seed}"), generate_company(),
                    SUPPLIERS[0], number=invoice_number(1, 100 + seed, LATEST.year), invoice_date=LATEST)
    if problem == "encrypted":
        return encrypt(draft.render().pdf, PASSWORD)
    if problem == "corrupt":
        whole = draft.render().pdf
        kept = whole[: len(whole) // 2]
        return kept[:9] + bytes(byte ^ 0x5A for byte in kept[9:])  # the header survives, the rest is noise
    if problem == "too_many_pages":
        return render(replace(draft.document, min_pages=TOO_MANY_PAGES))
    raise ValueError(f"no bad document for {problem!r}; there are {', '.join(BAD_DOCUMENTS)}")

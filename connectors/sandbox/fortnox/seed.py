"""The Fortnox side of the sandbox company, made from a seed.

It is the company `connectors.sandbox.workcloud` generates from the same seed, a Swedish builder:
its Fortnox projects carry the WorkCloud project numbers, names and leaders, its employees are the
WorkCloud employees, and its first customers are the WorkCloud customers. Supplier invoices are
for goods and services delivered to its projects. Each comes with a PDF whose references (the
project, a work order or only the work-site address, and always "Er referens" with the project
leader) the AI validation has to resolve, which is why most invoices lack `Project` in Fortnox.

Records are made by `entities.create`, the code POST uses, so a seeded record and a posted one cannot
differ; the seed then sets what only Fortnox sets (booked, paid, voucher numbers) and a modified
time within the last 30 days. Dates are relative to the sandbox clock's today. Every kind of
record has its own random stream, so changing one count leaves the other records as they were.
"""

from __future__ import annotations

import datetime as dt
import random
import unicodedata
import uuid
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from connectors.sandbox.fortnox.entities import (
    RESOURCES, booked_supplier_invoice, create, luhn_digit, ocr_number, voucher,
)
from connectors.sandbox.fortnox.pdf import InvoiceDocument, InvoiceLine
from connectors.sandbox.fortnox.shapes import CENT, json_number
from connectors.sandbox.fortnox.state import ArchiveFile, Record, SandboxState
from connectors.sandbox.workcloud import CUSTOMERS, FIRST, LAST, Company, generate_company

DAY = 86400
STATUS = {"active": "ONGOING", "inactive": "NOTSTARTED", "completed": "COMPLETED"}
ZIP_PREFIX = {
    "Uppsala": "753", "Stockholm": "113", "Kungsängen": "196", "Sigtuna": "193", "Enköping": "745", "Bålsta": "746",
    "Märsta": "195", "Knivsta": "741", "Tierp": "815", "Östhammar": "742", "Norrtälje": "761", "Heby": "744",
    "Sala": "733",
}
TOWNS = tuple(ZIP_PREFIX)
WORK_STREETS = ("Industrigatan", "Verkstadsvägen", "Fyrislundsgatan", "Bolandsgatan", "Rapsgatan", "Stålgatan",
                "Hamnesplanaden", "Kungsgatan", "Vaksalagatan", "Söderhamnsgatan", "Fältspatsgatan", "Kumlagatan")
HOME_STREETS = ("Granvägen", "Björkgatan", "Torggatan", "Ringvägen", "Skolgatan", "Parkvägen", "Solvägen", "Ekvägen")
ESTATE_WORDS = ("Solrosen", "Eken", "Linden", "Kvarnen", "Hagen", "Björken", "Granen", "Rönnen", "Vallmon", "Tallen",
                "Ängen", "Bäcken", "Åsen", "Liljan", "Lärkan", "Svanen", "Tranan", "Kronan")


@dataclass(frozen=True)
class Trade:
    """What a kind of supplier sells, on which cost account."""

    name: str
    account: int
    items: tuple[tuple[str, str, str], ...]  # description, unit, list price


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
    )),
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
    )),
)
ARTICLES = (  # number, description, unit, sales price, purchase price, type
    ("101", "Timpenning snickare", "tim", 650, 0, "SERVICE"),
    ("102", "Timpenning elektriker", "tim", 720, 0, "SERVICE"),
    ("103", "Timpenning målare", "tim", 590, 0, "SERVICE"),
    ("104", "Projektledning", "tim", 850, 0, "SERVICE"),
    ("105", "Gipsskiva 13 mm 1200x2500", "st", 159, 119, "STOCK"),
    ("106", "Regel 45x95 C24", "m", 32, 21, "STOCK"),
    ("107", "Mineralull 95 mm", "pkt", 549, 399, "STOCK"),
    ("108", "Takplåt TP20 svart", "m²", 219, 169, "STOCK"),
    ("109", "Fönster 3-glas 1200x1200", "st", 8950, 6950, "STOCK"),
    ("110", "Innerdörr vit 9x21", "st", 2450, 1690, "STOCK"),
    ("111", "Kakel vit blank 15x15", "m²", 429, 329, "STOCK"),
    ("112", "Golvvärmematta", "m²", 499, 349, "STOCK"),
    ("113", "Containerhyra 10 m³", "st", 3900, 3450, "SERVICE"),
    ("114", "Byggställning per vecka", "v", 2900, 2200, "SERVICE"),
    ("115", "Materialhantering", "st", 450, 0, "SERVICE"),
    ("116", "Resekostnad", "st", 350, 0, "SERVICE"),
)
JOBS = ("Snickare", "Snickare", "Byggnadsarbetare", "Elektriker", "Målare", "Platschef", "Projektledare", "Lärling")
COMPANY_NAME = "Ekbacken Bygg AB"
COMPANY_ADDRESS = ("Kungsängsvägen 21", "753 23 Uppsala")


def _with_luhn(payload: str) -> str:
    return payload + luhn_digit(payload)


COMPANY_VAT = f"SE{_with_luhn('559138124')}01"


def _rng(seed: int, kind: str) -> random.Random:
    return random.Random(f"fortnox:{seed}:{kind}")


def _digits(rng: random.Random, count: int) -> str:
    return "".join(str(rng.randrange(10)) for _ in range(count))


def _org_number(rng: random.Random, first: str = "559") -> str:
    """An organisation number with a valid check digit; the third digit is >= 2, as for every legal person."""
    number = _with_luhn(first + _digits(rng, 9 - len(first)))
    return f"{number[:6]}-{number[6:]}"


def _bankgiro(rng: random.Random) -> str:
    number = _with_luhn(str(rng.randrange(1, 10)) + _digits(rng, 6))
    return f"{number[:4]}-{number[4:]}"


def _personal_number(rng: random.Random) -> str:
    born = dt.date(1965, 1, 1) + dt.timedelta(days=rng.randrange(0, 38 * 365))
    tenth = _with_luhn(born.strftime("%y%m%d") + _digits(rng, 3))
    return f"{born.year // 100}{tenth[:6]}-{tenth[6:]}"


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return "".join(char for char in ascii_text if char.isalnum() or char == " ").replace(" ", "")


def _zip(rng: random.Random, city: str) -> str:
    return f"{ZIP_PREFIX.get(city, '753')} {rng.randrange(10, 100):02d}"


def _phone(rng: random.Random, mobile: bool = False) -> str:
    prefix = f"07{rng.choice('0236')}" if mobile else "018"
    return f"{prefix}-{rng.randrange(100, 999)} {rng.randrange(10, 99)} {rng.randrange(10, 99)}"


def _unique(name: str, taken: set[str]) -> str:
    candidate, n = name, 2
    while candidate in taken:
        candidate, n = f"{name} {n}", n + 1
    taken.add(candidate)
    return candidate


class _Seeder:
    """Adds records as Fortnox would hold them, each with a modified time in the last 30 days."""

    def __init__(self, state: SandboxState, seed: int) -> None:
        self.state, self.seed = state, seed
        self.now = state.now()
        self.today = state.today()
        self.rng = _rng(seed, "modified")

    def add(self, path: str, fields: Record, **fortnox_sets: Any) -> Record:
        resource = RESOURCES[path]
        record = {**create(self.state, resource, fields), **fortnox_sets}
        modified = self.now - self.rng.uniform(0, 30 * DAY)
        self.state.store(path, str(record[resource.id_field]), record, modified)
        return record

    def day(self, days_ago: int) -> str:
        return (self.today - dt.timedelta(days=days_ago)).isoformat()


def _projects(seeder: _Seeder, company: Company) -> None:
    for project in company.projects:
        seeder.add("projects", {
            "ProjectNumber": project["project_number"],
            "Description": project["project_name"][:50],
            "ProjectLeader": project["project_leader"],
            "Status": STATUS[project["status"]],
            "StartDate": project["start_date"],
            "EndDate": project["end_date"],
            "Comments": f"{project['customer']}, {project['address']}",
        })


def _employees(seeder: _Seeder, company: Company) -> None:
    rng = _rng(seeder.seed, "employees")
    for number, name in enumerate(company.employees, start=1):
        first, _, last = name.partition(" ")
        job = rng.choice(JOBS)
        salaried = job in ("Platschef", "Projektledare")
        city = rng.choice(TOWNS)
        seeder.add("employees", {
            "EmployeeId": str(number),
            "FirstName": first,
            "LastName": last,
            "Email": f"{_slug(first)}.{_slug(last)}@{_slug(COMPANY_NAME)}.se",
            "PersonalIdentityNumber": _personal_number(rng),
            "Phone1": _phone(rng, mobile=True),
            "Address1": f"{rng.choice(HOME_STREETS)} {rng.randrange(1, 60)}",
            "PostCode": _zip(rng, city),
            "City": city,
            "Country": "Sverige",
            "JobTitle": job,
            "EmploymentDate": seeder.day(rng.randrange(60, 4000)),
            "PersonelType": "TJM" if salaried else "ARB",
            "SalaryForm": "MAN" if salaried else "TIM",
            "MonthlySalary": str(rng.randrange(42, 61) * 1000) if salaried else "0",
            "HourlyPay": "0" if salaried else str(rng.randrange(175, 236)),
            "TaxTable": "32",
            "ClearingNo": str(rng.choice((8327, 6000, 3300, 5000))),
            "BankAccountNo": _digits(rng, 9),
        })


def _suppliers(seeder: _Seeder, count: int) -> list[tuple[Record, Trade]]:
    rng = _rng(seeder.seed, "suppliers")
    taken: set[str] = set()
    made = []
    for number in range(1, count + 1):
        trade, town = TRADES[(number - 1) % len(TRADES)], rng.choice(TOWNS)
        name = _unique(rng.choice((f"{trade.name} i {town} AB", f"{town} {trade.name} AB")), taken)
        org = _org_number(rng, "556")
        domain = _slug(name.removesuffix(" AB"))
        made.append((seeder.add("suppliers", {
            "SupplierNumber": str(number),
            "Name": name,
            "OrganisationNumber": org,
            "VATNumber": f"SE{org.replace('-', '')}01",
            "BG": _bankgiro(rng),
            "Address1": f"{rng.choice(WORK_STREETS)} {rng.randrange(1, 90)}",
            "ZipCode": _zip(rng, town),
            "City": town,
            "Country": "Sverige",
            "CountryCode": "SE",
            "Phone1": _phone(rng),
            "Email": f"faktura@{domain}.se",
            "WWW": f"www.{domain}.se",
            "TermsOfPayment": rng.choice(("30", "30", "30", "20", "10")),
            "PreDefinedAccount": str(trade.account),
            "OurCustomerNumber": str(rng.randrange(10000, 99999)),
            "YourReference": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
            "Active": rng.random() < 0.95,
        }), trade))
    return made


def _customer_name(rng: random.Random, taken: set[str], number: int) -> tuple[str, str]:
    """A name and its kind: the WorkCloud customers first, then housing cooperatives, property companies, people."""
    if number <= len(CUSTOMERS):
        name = CUSTOMERS[number - 1]
        kind = "municipality" if "kommun" in name else "cooperative" if name.startswith("Brf") else "company"
        return _unique(name, taken), kind
    kind = rng.choices(("cooperative", "company", "private"), weights=(5, 4, 1))[0]
    if kind == "cooperative":
        return _unique(f"Brf {rng.choice(ESTATE_WORDS)}", taken), kind
    if kind == "company":
        return _unique(rng.choice((f"{rng.choice(TOWNS)} Bostäder AB", f"{rng.choice(LAST)}s Fastigheter AB",
                                   f"Fastighets AB {rng.choice(ESTATE_WORDS)}")), taken), kind
    return _unique(f"{rng.choice(FIRST)} {rng.choice(LAST)}", taken), kind


ORG_PREFIX = {"municipality": "212", "cooperative": "769", "company": "559"}  # kommun, brf, aktiebolag


def _customers(seeder: _Seeder, count: int) -> list[Record]:
    rng = _rng(seeder.seed, "customers")
    taken: set[str] = set()
    made = []
    for number in range(1, count + 1):
        name, kind = _customer_name(rng, taken, number)
        city = rng.choice(TOWNS)
        org = "" if kind == "private" else _org_number(rng, ORG_PREFIX[kind])
        if kind == "private":
            email = f"{_slug(name)[:20]}@example.se"
        else:
            email = f"ekonomi@{_slug(name.removesuffix(' AB'))[:20]}.se"
        made.append(seeder.add("customers", {
            "CustomerNumber": str(number),
            "Name": name,
            "Type": "PRIVATE" if kind == "private" else "COMPANY",
            "OrganisationNumber": org,
            "VATNumber": f"SE{org.replace('-', '')}01" if org else "",
            "Address1": f"{rng.choice(HOME_STREETS + WORK_STREETS)} {rng.randrange(1, 120)}",
            "ZipCode": _zip(rng, city),
            "City": city,
            "Country": "Sverige",
            "CountryCode": "SE",
            "Phone1": _phone(rng, mobile=kind == "private"),
            "Email": email,
            "EmailInvoice": email,
            "TermsOfPayment": "30" if kind != "private" else "10",
            "YourReference": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
            "DefaultDeliveryTypes": {"Invoice": "EMAIL" if rng.random() < 0.7 else "PRINT"},
            "Active": rng.random() < 0.9,
        }))
    return made


def _articles(seeder: _Seeder) -> None:
    for number, description, unit, price, cost, kind in ARTICLES:
        seeder.add("articles", {
            "ArticleNumber": number, "Description": description, "Unit": unit, "SalesPrice": price,
            "PurchasePrice": cost, "Type": kind, "VAT": 25, "SalesAccount": 3041 if kind == "SERVICE" else 3001,
            "PurchaseAccount": 4600 if kind == "SERVICE" else 4010, "StockGoods": kind == "STOCK",
            "QuantityInStock": 0 if kind == "SERVICE" else 40, "StockValue": 0 if kind == "SERVICE" else 40 * cost,
        })


def _document_rows(rng: random.Random, quantity_field: str) -> list[Record]:
    return [
        {"ArticleNumber": number, quantity_field: str(rng.randrange(1, 40))}
        for number, *_ in rng.sample(ARTICLES, rng.randrange(1, 5))
    ]


def _customer_for(project: dict[str, str], customers: list[Record], rng: random.Random) -> Record:
    by_name = [customer for customer in customers if customer["Name"] == project["customer"]]
    return by_name[0] if by_name else rng.choice(customers)


def _invoices(seeder: _Seeder, company: Company, customers: list[Record], count: int) -> None:
    rng = _rng(seeder.seed, "invoices")
    for _ in range(count if customers else 0):
        project = rng.choice(company.projects)
        age = rng.randrange(0, 120)
        date = seeder.day(age)
        fields = {
            "CustomerNumber": _customer_for(project, customers, rng)["CustomerNumber"],
            "InvoiceDate": date,
            "Project": project["project_number"] if rng.random() < 0.8 else "",
            "OurReference": project["project_leader"],
            "InvoiceRows": _document_rows(rng, "DeliveredQuantity"),
        }
        sets: Record = {}
        if age > 7 and rng.random() < 0.8:
            entry = voucher(seeder.state, date, "B")
            sets = {"Booked": True, "Sent": True, "VoucherNumber": entry["Number"], "VoucherSeries": entry["Series"],
                    "VoucherYear": entry["Year"]}
            if rng.random() < 0.6:
                paid = min(dt.date.fromisoformat(date) + dt.timedelta(days=rng.randrange(5, 40)), seeder.today)
                sets |= {"Balance": 0, "FinalPayDate": paid.isoformat()}
        elif rng.random() < 0.05:
            sets = {"Cancelled": True, "Balance": 0}
        seeder.add("invoices", fields, **sets)


def _offers(seeder: _Seeder, company: Company, customers: list[Record], count: int) -> None:
    rng = _rng(seeder.seed, "offers")
    for _ in range(count if customers else 0):
        project = rng.choice(company.projects)
        ordered = rng.random() < 0.25
        seeder.add("offers", {
            "CustomerNumber": _customer_for(project, customers, rng)["CustomerNumber"],
            "OfferDate": seeder.day(rng.randrange(0, 60)),
            "Project": project["project_number"],
            "OurReference": project["project_leader"],
            "OfferRows": _document_rows(rng, "Quantity"),
        }, Sent=rng.random() < 0.7, Cancelled=not ordered and rng.random() < 0.1,
            OrderReference=str(rng.randrange(1, 500)) if ordered else "0")


def _references(
    rng: random.Random, project: dict[str, str], orders: list[dict[str, str]]
) -> tuple[tuple[str, str], ...]:
    """What the PDF says about where the goods went: the project, a work order, or only the site."""
    kind = rng.choices(("project", "order", "site"), weights=(45, 35, 20))[0]
    if kind == "order" and orders:
        return (("Arbetsorder", rng.choice(orders)["workorder_number"]),)
    if kind == "site":
        return (("Arbetsplats", project["address"]),)
    return (("Projekt", f"{project['project_number']} {project['project_name']}"),)


def _invoice_number(supplier: Record, sequence: int, year: int) -> str:
    """The supplier's own invoice number, in one of three styles real suppliers use."""
    style = int(supplier["SupplierNumber"]) % 3
    plain = str(40000 + 37 * int(supplier["SupplierNumber"]) + sequence)
    return (plain, f"{year}-{sequence:05d}", f"F{sequence:06d}")[style]


def _supplier_invoices(seeder: _Seeder, company: Company, suppliers: list[tuple[Record, Trade]], count: int) -> None:
    rng = _rng(seeder.seed, "supplierinvoices")
    projects = [p for p in company.projects if p["status"] == "active"] or company.projects
    orders: dict[str, list[dict[str, str]]] = {}
    for order in company.work_orders:
        orders.setdefault(order["project_number"], []).append(order)
    sequences = {supplier["SupplierNumber"]: rng.randrange(10, 900) for supplier, _ in suppliers}
    for _ in range(count if suppliers else 0):
        supplier, trade = rng.choice(suppliers)
        project = rng.choice(projects)
        age = rng.randrange(0, 120)
        invoice_date = seeder.today - dt.timedelta(days=age)
        sequences[supplier["SupplierNumber"]] += 1
        number = _invoice_number(supplier, sequences[supplier["SupplierNumber"]], invoice_date.year)
        lines = tuple(
            InvoiceLine(description, rng.randrange(1, 25) * (5 if unit == "m" else 1), unit,
                        (Decimal(price) * Decimal(rng.randrange(92, 109)) / 100).quantize(CENT, ROUND_HALF_UP))
            for description, unit, price in rng.sample(trade.items, rng.randrange(1, len(trade.items) + 1))
        )
        net = sum((line.amount for line in lines), Decimal(0))
        vat = (net / 4).quantize(CENT, ROUND_HALF_UP)  # Swedish VAT rounds half up (domain.md §2.4)
        status = rng.choices(("unbooked", "booked", "cancelled"), weights=(42, 55, 3))[0]
        with_project = rng.random() < (0.1 if status == "unbooked" else 0.4)  # most lack it: the AI fills it in
        project_field = project["project_number"] if with_project else ""
        ocr = ocr_number("".join(c for c in number if c.isdigit()))
        fields = {
            "SupplierNumber": supplier["SupplierNumber"],
            "InvoiceNumber": number,
            "InvoiceDate": invoice_date.isoformat(),
            "DueDate": (invoice_date + dt.timedelta(days=int(supplier["TermsOfPayment"]))).isoformat(),
            "OCR": ocr,
            "Project": project_field,
            "OurReference": project["project_leader"] if rng.random() < 0.5 else "",
            "YourReference": supplier["YourReference"],
            "SalesType": "SERVICE" if trade.account == 4600 else "STOCK",
            "SupplierInvoiceRows": [
                {"Account": 2440, "Code": "TOT", "Credit": json_number(net + vat)},
                {"Account": 2641, "Code": "VAT", "Debit": json_number(vat)},
                *({"Account": trade.account, "Debit": json_number(line.amount), "ItemDescription": line.description,
                   "Quantity": line.quantity, "Price": json_number(line.price), "Unit": line.unit,
                   "Project": project_field} for line in lines),
            ],
        }
        sets: Record = {"AuthorizerName": project["project_leader"] if status == "booked" or rng.random() < 0.4 else ""}
        if status == "cancelled":
            sets |= {"Cancelled": True, "Balance": "0"}
        elif status == "booked":
            sets |= booked_supplier_invoice(seeder.state, fields["InvoiceDate"])
            if age > 20 and rng.random() < 0.6:
                paid = min(invoice_date + dt.timedelta(days=rng.randrange(8, 35)), seeder.today)
                sets |= {"Balance": "0", "FinalPayDate": paid.isoformat()}
            else:
                sets |= {"PaymentPending": rng.random() < 0.15}
        invoice = seeder.add("supplierinvoices", fields, **sets)
        if rng.random() < 0.95:  # the rest arrived without a scanned file
            _attach(seeder, rng, invoice, supplier, number, fields, lines, net, vat, project, orders)


def _attach(seeder: _Seeder, rng: random.Random, invoice: Record, supplier: Record, number: str, fields: Record,
            lines: tuple[InvoiceLine, ...], net: Decimal, vat: Decimal, project: dict[str, str],
            orders: dict[str, list[dict[str, str]]]) -> None:
    file_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    seeder.state.archive[file_id] = ArchiveFile(f"faktura-{_slug(number) or number}.pdf", InvoiceDocument(
        supplier_name=supplier["Name"],
        supplier_address=(supplier["Address1"], f"{supplier['ZipCode']} {supplier['City']}"),
        supplier_org_number=supplier["OrganisationNumber"],
        supplier_vat_number=supplier["VATNumber"],
        supplier_bankgiro=supplier["BG"],
        supplier_phone=supplier["Phone1"],
        supplier_email=supplier["Email"],
        buyer_name=COMPANY_NAME,
        buyer_address=COMPANY_ADDRESS,
        buyer_vat_number=COMPANY_VAT,
        invoice_number=number,
        invoice_date=fields["InvoiceDate"],
        due_date=fields["DueDate"],
        terms_days=int(supplier["TermsOfPayment"]),
        ocr=fields["OCR"],
        your_reference=project["project_leader"],
        references=_references(rng, project, orders.get(project["project_number"], [])),
        lines=lines,
        net=net,
        vat=vat,
        total=net + vat,
        project_number=project["project_number"],
    ))
    seeder.add("supplierinvoicefileconnections", {"FileId": file_id, "SupplierInvoiceNumber": invoice["GivenNumber"]})


SALARY_CODES = (("11", "Timlön"), ("11", "Timlön"), ("13", "Övertid 50 %"), ("41", "Traktamente, hel dag"))


def _time_transactions(seeder: _Seeder, company: Company, attendance: int, salary: int) -> None:
    rng = _rng(seeder.seed, "timetransactions")
    employees = [record for record, _ in seeder.state.snapshot("employees")]
    projects = [p["project_number"] for p in company.projects if p["status"] == "active"]
    projects = projects or [p["project_number"] for p in company.projects]
    for _ in range(attendance):
        seeder.add("attendancetransactions", {
            "EmployeeId": rng.choice(employees)["EmployeeId"],
            "Date": seeder.day(rng.randrange(0, 30)),
            "CauseCode": rng.choices(("TID", "OT1", "OB1", "RES"), weights=(85, 5, 5, 5))[0],
            "Hours": str(rng.choice((8, 8, 8, 7.5, 6, 4, 2))),
            "Project": rng.choice(projects),
        })
    for _ in range(salary):
        employee = rng.choice(employees)
        hourly = employee["HourlyPay"]
        code, text = rng.choice(SALARY_CODES)
        seeder.add("salarytransactions", {
            "EmployeeId": employee["EmployeeId"],
            "Date": seeder.day(rng.randrange(0, 30)),
            "SalaryCode": code,
            "TextRow": text,
            "Number": str(rng.randrange(1, 41)) if code != "41" else "1",
            "Amount": hourly if code == "11" and hourly != "0" else str(rng.randrange(180, 320)),
            "Project": rng.choice(projects),
        })


def populate(
    state: SandboxState,
    seed: int = 7,
    *,
    suppliers: int = 20,
    customers: int = 25,
    invoices: int = 40,
    offers: int = 10,
    supplier_invoices: int = 60,
    attendance_transactions: int = 50,
    salary_transactions: int = 50,
) -> None:
    """Fill `state` with the company of `seed`."""
    company = generate_company(seed)
    seeder = _Seeder(state, seed)
    with state.lock:
        state.seed = seed
        _projects(seeder, company)
        _employees(seeder, company)
        made_suppliers = _suppliers(seeder, suppliers)
        made_customers = _customers(seeder, customers)
        _articles(seeder)
        _invoices(seeder, company, made_customers, invoices)
        _offers(seeder, company, made_customers, offers)
        _supplier_invoices(seeder, company, made_suppliers, supplier_invoices)
        _time_transactions(seeder, company, attendance_transactions, salary_transactions)

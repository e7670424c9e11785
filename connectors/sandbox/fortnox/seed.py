"""The Fortnox side of the sandbox company, made from a seed.

It is the company `connectors.sandbox.workcloud` generates from the same seed, a Swedish builder:
its Fortnox projects carry the WorkCloud project numbers, names and leaders, its employees are the
WorkCloud employees, and its first customers are the WorkCloud customers. Supplier invoices are
for goods and services delivered to its projects. Each comes with a PDF from the invoice corpus
(`connectors.sandbox.invoice_corpus`), in its supplier's template and of one of the corpus's
scenarios: the project, a work order, only the work site or the reference person, a misspelled
name, nothing, wrong VAT, a scan. The AI validation has to resolve them, which is why most
invoices lack `Project` in Fortnox.

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
from decimal import Decimal
from typing import Any

from connectors.sandbox import invoice_corpus as corpus  # a module, used at call time: the corpus draws with
# `fortnox.pdf`, and importing that runs this package's `__init__`, which imports this module
from connectors.sandbox.fortnox.entities import RESOURCES, booked_supplier_invoice, create, voucher
from connectors.sandbox.fortnox.pdf import InvoiceDocument
from connectors.sandbox.fortnox.shapes import json_number
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
def _rng(seed: int, kind: str) -> random.Random:
    return random.Random(f"fortnox:{seed}:{kind}")


def _personal_number(rng: random.Random) -> str:
    born = dt.date(1965, 1, 1) + dt.timedelta(days=rng.randrange(0, 38 * 365))
    tenth = corpus.with_luhn(born.strftime("%y%m%d") + corpus.digits(rng, 3))
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


def _company_information(seeder: _Seeder) -> None:
    """The builder itself, as GET /3/companyinformation shows it: the buyer every invoice is addressed to."""
    street, postal = corpus.BUYER.invoice_address
    zip_code, city = postal.rsplit(" ", 1)
    seeder.state.company_information = {
        "Address": street, "City": city, "CompanyName": corpus.BUYER.name, "CountryCode": "SE",
        "DatabaseNumber": _rng(seeder.seed, "company").randrange(1_000_000, 2_000_000),
        "OrganizationNumber": corpus.BUYER.org_nr,
        "VisitAddress": street, "VisitCity": city, "VisitCountryCode": "SE", "VisitZipCode": zip_code,
        "ZipCode": zip_code,
    }


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
            "Email": f"{_slug(first)}.{_slug(last)}@{_slug(corpus.BUYER.name)}.se",
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
            "BankAccountNo": corpus.digits(rng, 9),
        })


def _suppliers(seeder: _Seeder, count: int) -> list[tuple[Record, corpus.Trade]]:
    rng = _rng(seeder.seed, "suppliers")
    taken: set[str] = set()
    made = []
    for number in range(1, count + 1):
        trade, town = corpus.TRADES[(number - 1) % len(corpus.TRADES)], rng.choice(TOWNS)
        name = _unique(rng.choice((f"{trade.name} i {town} AB", f"{town} {trade.name} AB")), taken)
        org = corpus.org_number(rng, "556")
        domain = _slug(name.removesuffix(" AB"))
        made.append((seeder.add("suppliers", {
            "SupplierNumber": str(number),
            "Name": name,
            "OrganisationNumber": org,
            "VATNumber": corpus.vat_number(org),
            "BG": corpus.bankgiro(rng),
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
        org = "" if kind == "private" else corpus.org_number(rng, ORG_PREFIX[kind])
        if kind == "private":
            email = f"{_slug(name)[:20]}@example.se"
        else:
            email = f"ekonomi@{_slug(name.removesuffix(' AB'))[:20]}.se"
        made.append(seeder.add("customers", {
            "CustomerNumber": str(number),
            "Name": name,
            "Type": "PRIVATE" if kind == "private" else "COMPANY",
            "OrganisationNumber": org,
            "VATNumber": corpus.vat_number(org) if org else "",
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


def _corpus_supplier(supplier: Record, trade: corpus.Trade) -> corpus.Supplier:
    """The supplier as its invoices show it; its template and "Vår referens" follow its number."""
    number = int(supplier["SupplierNumber"])
    return corpus.Supplier(
        name=supplier["Name"], address=(supplier["Address1"], f"{supplier['ZipCode']} {supplier['City']}"),
        org_number=supplier["OrganisationNumber"], bankgiro=supplier["BG"], plusgiro="", phone=supplier["Phone1"],
        email=supplier["Email"], contact=corpus.CONTACTS[number % len(corpus.CONTACTS)], trade=trade,
        terms_days=int(supplier["TermsOfPayment"]), layout=corpus.layout_for(number),
    )


def _ledger_rows(document: InvoiceDocument, account: int, project: str) -> list[Record]:
    """The PDF as a bookkeeper enters it: its total, its VAT, its rows, and whatever makes them balance
    when the PDF's own figures do not add up (Fortnox books only balanced invoices)."""
    rows: list[Record] = [
        {"Account": 2440, "Code": "TOT", "Credit": json_number(document.total)},
        {"Account": 2641, "Code": "VAT", "Debit": json_number(document.vat)},
        *({"Account": account, "Debit": json_number(line.amount), "ItemDescription": line.description,
           "Quantity": line.quantity, "Price": json_number(line.price), "Unit": line.unit, "Project": project}
          for line in document.lines),
    ]
    difference = document.total - document.vat - sum((line.amount for line in document.lines), Decimal(0))
    if difference:
        rows.append({"Account": account, "Debit" if difference > 0 else "Credit": json_number(abs(difference)),
                     "ItemDescription": "Differens mot fakturans summa", "Project": project})
    return rows


def _supplier_invoices(
    seeder: _Seeder, company: Company, suppliers: list[tuple[Record, corpus.Trade]], count: int
) -> None:
    """Invoices of the invoice corpus's scenarios in each supplier's template. The record holds what
    its PDF says, as Fortnox's scanning registers it; few carry the project: the AI fills it in."""
    rng = _rng(seeder.seed, "supplierinvoices")
    leaders = {project["project_number"]: project["project_leader"] for project in company.projects}
    sequences = {supplier["SupplierNumber"]: rng.randrange(10, 900) for supplier, _ in suppliers}
    for _ in range(count if suppliers else 0):
        supplier, trade = rng.choice(suppliers)
        age = rng.randrange(0, 120)
        invoice_date = seeder.today - dt.timedelta(days=age)
        sequences[supplier["SupplierNumber"]] += 1
        number = corpus.invoice_number(int(supplier["SupplierNumber"]), sequences[supplier["SupplierNumber"]],
                                       invoice_date.year)
        document = corpus.compose(corpus.pick_scenario(rng), rng, company, _corpus_supplier(supplier, trade),
                                  number=number, invoice_date=invoice_date).document
        leader = leaders.get(document.project_number or "", "")
        status = rng.choices(("unbooked", "booked", "cancelled"), weights=(42, 55, 3))[0]
        with_project = rng.random() < (0.1 if status == "unbooked" else 0.4)
        project_field = (document.project_number or "") if with_project else ""
        fields = {
            "SupplierNumber": supplier["SupplierNumber"],
            "InvoiceNumber": number,
            "InvoiceDate": invoice_date.isoformat(),
            "DueDate": document.due_date.isoformat(),
            "OCR": document.ocr,
            "Project": project_field,
            "OurReference": leader if rng.random() < 0.5 else "",
            "YourReference": supplier["YourReference"],
            "SalesType": "SERVICE" if trade.account == 4600 else "STOCK",
            "SupplierInvoiceRows": _ledger_rows(document, trade.account, project_field),
        }
        sets: Record = {"AuthorizerName": leader if status == "booked" or rng.random() < 0.4 else ""}
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
            _attach(seeder, rng, invoice, document)


def _attach(seeder: _Seeder, rng: random.Random, invoice: Record, document: InvoiceDocument) -> None:
    """The invoice's PDF in the archive, rendered on its first download; `source.project_number` is its truth."""
    file_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    name = f"faktura-{_slug(document.invoice_number) or document.invoice_number}.pdf"
    seeder.state.archive[file_id] = ArchiveFile(name, document)
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
        _company_information(seeder)
        _projects(seeder, company)
        _employees(seeder, company)
        made_suppliers = _suppliers(seeder, suppliers)
        made_customers = _customers(seeder, customers)
        _articles(seeder)
        _invoices(seeder, company, made_customers, invoices)
        _offers(seeder, company, made_customers, offers)
        _supplier_invoices(seeder, company, made_suppliers, supplier_invoices)
        _time_transactions(seeder, company, attendance_transactions, salary_transactions)
